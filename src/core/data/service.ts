/**
 * The Data service: dataset versions from uploaded blobs, version resolution, profiles, tags, diffs,
 * validation and the event feed. Routes call it; every state change goes through `audited`.
 *
 * Adding a version is two-phase, so a client uploads only what the server lacks and can resume:
 *   1. `missingBlobs(shas)` → upload each missing blob (`putBlob`, verified against its hash);
 *   2. `createVersion(entries)` → refuses (409, details.missing) while a blob is absent; else
 *      profiles the tabular files (cached per blob), stores the manifest and records the version.
 * A tabular file that cannot be read fails step 2 with its file and row: no version is recorded,
 * the earlier ones are untouched.
 *
 * `query` runs one read-only SELECT over a version's files (query.ts says how it is boxed in).
 *
 * For Pipelines: `resolveDatasetVersion(project, "name@latest")`, `materialise(…)`, `eventsAfter(seq)`.
 */
import type { Readable } from "node:stream";
import { getManifest, manifestHash, putManifest } from "../artifacts/manifest.js";
import type { ArtifactStore, BlobInfo, ManifestEntry } from "../artifacts/ports.js";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.js";
import type { AuditLog } from "../governance/audit.js";
import { audited } from "../governance/audited.js";
import { newId, nowMs } from "../ids.js";
import type { MetadataStore } from "../ports.js";
import type { DatasetDiff } from "./diff.js";
import type { QueryFile, QueryOptions, QueryResult } from "./query.js";
import type { ValidationReport } from "./expectations.js";
import {
  versionId,
  type Dataset,
  type DatasetEvent,
  type DatasetKind,
  type DatasetProfile,
  type DatasetVersion,
  type ResolvedVersion,
  type ValidationRecord,
} from "./model.js";
import type { BlobFiles, DataStore } from "./ports.js";
import type { TableProfile } from "./profile/model.js";
import { assertDatasetName, assertTagLabel, parseVersionRef } from "./refs.js";
import { canonicalManifest } from "../artifacts/manifest.js";

export interface DataServiceOptions {
  metadata: MetadataStore;
  audit: AuditLog;
  store: DataStore;
  artifacts: ArtifactStore;
  blobFiles: BlobFiles;
}

export interface CreateVersionInput {
  entries: ManifestEntry[];
  kind: DatasetKind;
  message?: string | null;
  /** Profile tabular files (default true). */
  profile?: boolean;
}

async function readJsonBlob<T>(artifacts: ArtifactStore, sha: string): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const chunk of await artifacts.getBlob(sha)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as T;
}

/**
 * Profiling, validation, diffs, queries and the tabular readers, loaded when first used: the data
 * add that finds its content unchanged (most adds) and the other reads need none of them, and they
 * brought csv-parse's 12 files, the profile builder and sketches, and the drift statistics into
 * every embedded `data` command's start-up (issue 18).
 */
const analysis = () => import("./service-analysis.js");

/** Versions with more tabular files than this count duplicates file by file (see countDuplicates). */
const COLUMNAR_DUPLICATES_MAX_FILES = 64;

export class DataService {
  constructor(private readonly o: DataServiceOptions) {}

  // ---- blobs

  /** Asked in parallel slices: a store checks one blob at a time, and 10 000 sequential stats add up. */
  async missingBlobs(shas: string[]): Promise<string[]> {
    const unique = [...new Set(shas)];
    const slices: string[][] = [];
    for (let i = 0; i < unique.length; i += 256) slices.push(unique.slice(i, i + 256));
    return (await Promise.all(slices.map((s) => this.o.artifacts.missingBlobs(s)))).flat();
  }

  /** A stored blob's bytes, verified against its hash as they stream. */
  blob(sha256: string): Promise<Readable> {
    return this.o.artifacts.getBlob(sha256);
  }

  putBlob(data: Readable, expectedSha256?: string): Promise<BlobInfo> {
    return this.o.artifacts.putBlob(data, expectedSha256 ? { expectedSha256 } : undefined);
  }

  /**
   * A file on this machine as a blob (the embedded CLI's `data add`): the store reads it once where it
   * can (FsArtifactStore hashes and copies on a worker thread), else it streams through putBlob.
   */
  putLocalFile(open: () => Readable, path: string): Promise<BlobInfo> {
    const artifacts = this.o.artifacts;
    return artifacts.putFile ? artifacts.putFile(path) : artifacts.putBlob(open());
  }

  // ---- versions

  async createVersion(
    actor: string,
    project: string,
    name: string,
    input: CreateVersionInput,
  ): Promise<{ version: DatasetVersion; created: boolean }> {
    assertDatasetName(name);
    if (input.entries.length === 0) throw new InvalidInputError("a dataset version needs at least one file");
    if (input.kind === "file" && input.entries.length !== 1)
      throw new InvalidInputError(`kind "file" needs exactly one entry, got ${input.entries.length}`);
    canonicalManifest(input.entries); // checks paths and hashes before anything is stored
    const manifestSha = manifestHash(input.entries);
    const latest = await this.o.store.latestVersion(project, name);
    if (latest && latest.manifestSha === manifestSha && latest.kind === input.kind)
      return { version: latest, created: false };
    const missing = await this.missingBlobs(input.entries.map((e) => e.sha256));
    if (missing.length)
      throw new ConflictError(`${missing.length} of the version's blobs are not uploaded yet`, { missing });

    const profileSha = input.profile === false ? null : await this.profileEntries(input.entries);
    await putManifest(this.o.artifacts, input.entries);
    // The version names its blobs: they are made durable under their names before it is recorded, so
    // a power loss cannot leave a recorded version whose blob is missing or partial.
    await this.o.artifacts.makeDurable?.(input.entries.map((e) => e.sha256));
    for (let attempt = 0; ; attempt++) {
      try {
        return await audited(this.o.metadata, this.o.audit, async (tx, record) => {
          const now = nowMs();
          const current = await this.o.store.latestVersion(project, name, tx);
          if (current && current.manifestSha === manifestSha && current.kind === input.kind)
            return { version: current, created: false };
          await this.o.store.ensureDataset({ project, name, createdAt: now, createdBy: actor }, tx);
          const v: DatasetVersion = {
            project,
            name,
            version: (current?.version ?? 0) + 1,
            manifestSha,
            kind: input.kind,
            fileCount: input.entries.length,
            totalBytes: input.entries.reduce((s, e) => s + e.size, 0),
            profileSha,
            message: input.message ?? null,
            createdAt: now,
            createdBy: actor,
            tags: [],
          };
          await this.o.store.insertVersion(v, tx);
          await this.o.store.insertEvent({ project, name, version: v.version, kind: "version_created", at: now }, tx);
          await record({
            actor,
            project,
            action: "dataset.version.create",
            target: `dataset:${name}@${v.version}`,
            summary: { manifest: manifestSha, files: v.fileCount, bytes: v.totalBytes, profiled: profileSha !== null },
          });
          return { version: v, created: true };
        });
      } catch (error) {
        // Two adds racing for the same next number: the loser retries on top of the winner.
        if (attempt < 3 && /unique|duplicate|constraint/i.test(String((error as Error).message))) continue;
        throw error;
      }
    }
  }

  /** Profiles every tabular entry (reusing a blob's earlier profile) and stores the dataset profile. */
  private async profileEntries(entries: ManifestEntry[]): Promise<string | null> {
    const { profileTabularFile, tabularFormatOf } = await analysis();
    const files: DatasetProfile["files"] = {};
    for (const entry of entries) {
      const format = tabularFormatOf(entry.path);
      if (!format) continue;
      const cached = await this.o.store.getFileProfile(entry.sha256);
      if (cached && cached.format === format) {
        files[entry.path] = { format, profile: await readJsonBlob<TableProfile>(this.o.artifacts, cached.profileSha) };
        continue;
      }
      const local = await this.o.blobFiles.open(entry.sha256);
      let profile: TableProfile;
      try {
        // Through DuckDB where it reads the file as Tandem does, else row by row: the same profile.
        profile = await profileTabularFile(local.path, { label: entry.path, format });
      } finally {
        await local.release();
      }
      const stored = await this.o.artifacts.putBlob(JSON.stringify(profile));
      await this.o.store.putFileProfile({ blobSha: entry.sha256, profileSha: stored.sha256, format, at: nowMs() });
      files[entry.path] = { format, profile };
    }
    if (Object.keys(files).length === 0) return null;
    const doc: DatasetProfile = { format: "tandem.dataset-profile/1", files };
    return (await this.o.artifacts.putBlob(JSON.stringify(doc))).sha256;
  }

  async resolve(project: string, ref: string): Promise<DatasetVersion> {
    const { name, selector } = parseVersionRef(ref);
    let v: DatasetVersion | null = null;
    switch (selector.by) {
      case "latest":
        v = await this.o.store.latestVersion(project, name);
        break;
      case "number":
        v = await this.o.store.getVersion(project, name, selector.version);
        break;
      case "tag": {
        const n = await this.o.store.getTag(project, name, selector.label);
        v = n === null ? null : await this.o.store.getVersion(project, name, n);
        break;
      }
      case "manifest": {
        const found = await this.o.store.findVersionsByManifest(project, name, selector.prefix);
        const manifests = new Set(found.map((f) => f.manifestSha));
        if (manifests.size > 1) throw new InvalidInputError(`${ref} is ambiguous: give more hex digits`);
        v = found.at(-1) ?? null;
        break;
      }
    }
    if (!v) {
      const exists = await this.o.store.getDataset(project, name);
      throw new NotFoundError(
        exists
          ? `dataset ${name} has no version ${ref.slice(ref.indexOf("@") + 1)} in project ${project}`
          : `no dataset ${name} in project ${project}`,
      );
    }
    return v;
  }

  /** For Pipelines: the version, its id (`name@sha256:…`) and its files. */
  async resolveDatasetVersion(project: string, ref: string): Promise<ResolvedVersion> {
    const v = await this.resolve(project, ref);
    const manifest = await getManifest(this.o.artifacts, v.manifestSha);
    return {
      name: v.name,
      version: v.version,
      id: versionId(v.name, v.manifestSha),
      manifestSha: v.manifestSha,
      kind: v.kind,
      entries: manifest.entries,
    };
  }

  /** The Pipelines `DatasetResolver` port: `dataset://name@ref` → manifest, kind and version number. */
  async resolveForPipeline(
    project: string,
    ref: string,
  ): Promise<{ manifest: string; kind: DatasetKind; version: string }> {
    const v = await this.resolve(project, ref);
    return { manifest: v.manifestSha, kind: v.kind, version: String(v.version) };
  }

  listDatasets(project: string): Promise<Dataset[]> {
    return this.o.store.listDatasets(project);
  }

  async listVersions(project: string, name: string): Promise<DatasetVersion[]> {
    assertDatasetName(name);
    if (!(await this.o.store.getDataset(project, name)))
      throw new NotFoundError(`no dataset ${name} in project ${project}`);
    return this.o.store.listVersions(project, name);
  }

  async entries(v: DatasetVersion): Promise<ManifestEntry[]> {
    return (await getManifest(this.o.artifacts, v.manifestSha)).entries;
  }

  async profile(v: DatasetVersion): Promise<DatasetProfile | null> {
    return v.profileSha ? readJsonBlob<DatasetProfile>(this.o.artifacts, v.profileSha) : null;
  }

  async tag(
    actor: string,
    project: string,
    ref: string,
    label: string,
  ): Promise<{ version: DatasetVersion; previous: number | null }> {
    assertTagLabel(label);
    const v = await this.resolve(project, ref);
    return audited(this.o.metadata, this.o.audit, async (tx, record) => {
      const previous = await this.o.store.setTag(
        { project, name: v.name, label, version: v.version, at: nowMs(), by: actor },
        tx,
      );
      await record({
        actor,
        project,
        action: "dataset.tag",
        target: `dataset:${v.name}@${label}`,
        summary: { version: v.version, previous },
      });
      const tagged = (await this.o.store.getVersion(project, v.name, v.version, tx))!;
      return { version: tagged, previous };
    });
  }

  async diff(
    project: string,
    refA: string,
    refB: string,
  ): Promise<{ from: DatasetVersion; to: DatasetVersion; diff: DatasetDiff }> {
    const { diffVersions } = await analysis();
    const from = await this.resolve(project, refA);
    const to = await this.resolve(project, refB);
    const diff = diffVersions(
      { entries: await this.entries(from), profile: await this.profile(from) },
      { entries: await this.entries(to), profile: await this.profile(to) },
    );
    return { from, to, diff };
  }

  /** The profile validation runs on: one file's, or all tabular files merged. */
  private async tableProfile(v: DatasetVersion, file: string | undefined): Promise<TableProfile | null> {
    const p = await this.profile(v);
    if (!p) return null;
    if (file !== undefined) {
      const f = p.files[file];
      if (!f)
        throw new InvalidInputError(
          `expectations: file: ${v.name}@${v.version} has no tabular file ${JSON.stringify(file)} (it has: ${Object.keys(p.files).join(", ")})`,
        );
      return f.profile;
    }
    const { mergeProfiles } = await analysis();
    return mergeProfiles(...Object.values(p.files).map((f) => f.profile));
  }

  async validate(
    actor: string,
    project: string,
    ref: string,
    expectationsValue: unknown,
    options: { runId?: string | null } = {},
  ): Promise<ValidationRecord & { report: ValidationReport }> {
    const { parseExpectations, validateProfile } = await analysis();
    const expectations = parseExpectations(expectationsValue);
    const v = await this.resolve(project, ref);
    const profile = await this.tableProfile(v, expectations.file);
    if (!profile)
      throw new InvalidInputError(
        `${v.name}@${v.version} has no tabular files (CSV, TSV, JSON Lines, Parquet) to validate`,
      );
    let reference: { ref: string; profile: TableProfile } | null = null;
    if (expectations.drift) {
      const against = expectations.drift.against;
      const refVersion =
        against === "previous"
          ? v.version > 1
            ? await this.o.store.getVersion(project, v.name, v.version - 1)
            : null
          : await this.resolve(project, against);
      const refProfile = refVersion ? await this.tableProfile(refVersion, expectations.file) : null;
      if (refVersion && refProfile)
        reference = { ref: `${refVersion.name}@${refVersion.version}`, profile: refProfile };
    }
    const report = await validateProfile({
      dataset: `${v.name}@${v.version}`,
      file: expectations.file ?? null,
      profile,
      expectations,
      reference,
      countDuplicates: (column) => this.countDuplicates(v, expectations.file, column),
    });
    const rec: ValidationRecord & { report: ValidationReport } = {
      id: newId(),
      project,
      name: v.name,
      version: v.version,
      ok: report.ok,
      report,
      runId: options.runId ?? null,
      createdAt: nowMs(),
      createdBy: actor,
    };
    await audited(this.o.metadata, this.o.audit, async (tx, record) => {
      await this.o.store.insertValidation(rec, tx);
      await record({
        actor,
        project,
        action: "dataset.validate",
        target: `dataset:${v.name}@${v.version}`,
        summary: { ok: report.ok, failed: report.checks.filter((c) => !c.ok).length, run_id: rec.runId },
      });
    });
    return rec;
  }

  /** One read-only SELECT over a version's tabular files, in DuckDB's sandbox (see query.ts). */
  async query(
    project: string,
    ref: string,
    sql: string,
    options: QueryOptions = {},
  ): Promise<QueryResult & { version: DatasetVersion }> {
    const { queryFiles, tabularFormatOf } = await analysis();
    const v = await this.resolve(project, ref);
    const opened: Array<{ release(): Promise<void> }> = [];
    try {
      const files: QueryFile[] = [];
      for (const entry of await this.entries(v)) {
        const format = tabularFormatOf(entry.path);
        if (!format) continue;
        const local = await this.o.blobFiles.open(entry.sha256);
        opened.push(local);
        files.push({ path: entry.path, local: local.path, format });
      }
      if (files.length === 0) {
        throw new InvalidInputError(
          `${v.name}@${v.version} has no tabular files (CSV, TSV, JSON Lines, Parquet) to query`,
        );
      }
      return { version: v, ...(await queryFiles(files, sql, options)) };
    } finally {
      for (const local of opened) await local.release();
    }
  }

  listValidations(project: string, name: string, version: number | null): Promise<ValidationRecord[]> {
    return this.o.store.listValidations(project, name, version);
  }

  /**
   * Exact duplicates of a column across the version's tabular files (or one file), by re-reading them:
   * CSV/TSV through the columnar engine (one COUNT DISTINCT instead of a JS Set of every value), anything
   * else, or a CSV the engine fails on, row by row.
   */
  private async countDuplicates(v: DatasetVersion, file: string | undefined, column: string): Promise<number> {
    const { countDuplicatesColumnar, tabularFormatOf } = await analysis();
    const tabular = (await this.entries(v)).filter(
      (e) => tabularFormatOf(e.path) !== null && (file === undefined || e.path === file),
    );
    // Every file is opened at once for the one query (a local copy each from S3): many files go row-wise.
    if (tabular.length > COLUMNAR_DUPLICATES_MAX_FILES) return this.countDuplicatesRowWise(v, file, column);
    const opened = await Promise.all(tabular.map((e) => this.o.blobFiles.open(e.sha256)));
    try {
      const files = tabular.map((e, i) => ({ path: opened[i]!.path, format: tabularFormatOf(e.path)! }));
      const counted = await countDuplicatesColumnar(files, column).catch(() => null);
      if (counted !== null) return counted;
    } finally {
      for (const local of opened) await local.release();
    }
    return this.countDuplicatesRowWise(v, file, column);
  }

  private async countDuplicatesRowWise(v: DatasetVersion, file: string | undefined, column: string): Promise<number> {
    const { DuplicateTally, openTable, tabularFormatOf } = await analysis();
    const tally = new DuplicateTally();
    for (const entry of await this.entries(v)) {
      const format = tabularFormatOf(entry.path);
      if (!format || (file !== undefined && entry.path !== file)) continue;
      const local = await this.o.blobFiles.open(entry.sha256);
      try {
        await tally.add(await openTable(local.path, { label: entry.path, format }), column);
      } finally {
        await local.release();
      }
    }
    return tally.duplicates;
  }

  /**
   * Hands new events to `handle` in order and remembers how far `consumer` got. A consumer seen for
   * the first time starts at the current end (history is not replayed). `handle` must be idempotent:
   * after a crash between handling and saving the cursor an event comes again (the pipelines' `data`
   * trigger is, through its idempotency key).
   */
  async consumeEvents(consumer: string, handle: (e: DatasetEvent) => Promise<void>, limit = 100): Promise<number> {
    let cursor = await this.o.store.getCursor(consumer);
    if (cursor === null) {
      await this.o.store.setCursor(consumer, await this.o.store.maxEventSeq(), nowMs());
      return 0;
    }
    const events = await this.o.store.eventsAfter(cursor, limit);
    for (const e of events) {
      await handle(e);
      cursor = e.seq;
      await this.o.store.setCursor(consumer, cursor, nowMs());
    }
    return events.length;
  }

  eventsAfter(afterSeq: number, limit = 100, project?: string): Promise<DatasetEvent[]> {
    return this.o.store.eventsAfter(afterSeq, limit, project);
  }
}
