/**
 * Run artifacts: bytes in the content-addressed ArtifactStore, the path → sha256 index in the
 * tracking store. Paths are those of MLflow's artifact proxy, `<experiment>/<run>/artifacts/<file>`,
 * scoped by project. And the garbage collector that MLflow users have long asked for: deleting a run
 * and then collecting frees its artifacts' bytes for real.
 */
import type { Readable } from "node:stream";
import type { ArtifactStore } from "../artifacts/ports.js";
import { safeRelativePath } from "../artifacts/paths.js";
import type { AuditLog } from "../governance/audit.js";
import { audited } from "../governance/audited.js";
import { NotFoundError } from "../errors.js";
import { nowMs } from "../ids.js";
import type { MetadataStore } from "../ports.js";
import type { ArtifactFile } from "./model.js";
import type { ArtifactRecord, TrackingStore } from "./ports.js";

/** Tells which of these blobs another area still uses (e.g. a registered model version's files). */
export type BlobReferenceCheck = (sha256s: string[]) => Promise<Set<string>>;

export interface GcResult {
  purgedRuns: string[];
  deletedBlobs: number;
  freedBytes: number;
}

const RUN_PATH = /^[^/]+\/([0-9a-f]{32})\/artifacts(?:\/|$)/;

export class TrackingArtifacts {
  /**
   * Other areas register here what keeps a blob alive besides tracking's own index, so the collector
   * never frees bytes a model version or a dataset still points at.
   */
  readonly externalReferenceChecks: BlobReferenceCheck[] = [];

  constructor(
    private readonly options: {
      metadata: MetadataStore;
      audit: AuditLog;
      store: TrackingStore;
      artifacts: ArtifactStore;
    },
  ) {}

  /** Stores bytes at `path` (replacing what was there) and returns the index record. */
  async put(
    actor: string,
    project: string,
    rawPath: string,
    data: Readable | Uint8Array | string,
  ): Promise<ArtifactRecord> {
    const path = safeRelativePath(rawPath);
    const blob = await this.options.artifacts.putBlob(data);
    const runId = RUN_PATH.exec(path)?.[1] ?? null;
    const run = runId ? await this.options.store.getRunInfo(runId) : null;
    const record: ArtifactRecord = {
      path,
      sha256: blob.sha256,
      size: blob.size,
      runId: run && run.project === project ? runId : null,
      updatedAt: nowMs(),
    };
    await audited(this.options.metadata, this.options.audit, async (tx, audit) => {
      await this.options.store.putArtifact(project, record, tx);
      await audit({
        actor,
        project,
        action: "tracking.artifact.put",
        target: `artifact:${path}`,
        summary: { sha256: blob.sha256, size: blob.size },
      });
    });
    return record;
  }

  /**
   * Indexes bytes already in the ArtifactStore at `path` (no upload). The MLflow registry routes use
   * it to give each model version its own copy of the run's files, so a version stays downloadable
   * (and its blobs stay referenced) after its run is deleted and collected.
   */
  async link(
    actor: string,
    project: string,
    files: Array<{ path: string; sha256: string; size: number }>,
  ): Promise<void> {
    await audited(this.options.metadata, this.options.audit, async (tx, audit) => {
      for (const f of files) {
        await this.options.store.putArtifact(
          project,
          { path: safeRelativePath(f.path), sha256: f.sha256, size: f.size, runId: null, updatedAt: nowMs() },
          tx,
        );
      }
      await audit({
        actor,
        project,
        action: "tracking.artifact.link",
        target: `artifact:${files[0]?.path ?? ""}`,
        summary: { files: files.length },
      });
    });
  }

  /** Every file under `dir` (recursively), paths relative to `dir`. */
  async tree(project: string, rawDir: string): Promise<Array<{ path: string; sha256: string; size: number }>> {
    const dir = safeRelativePath(rawDir);
    const exact = await this.options.store.getArtifact(project, dir);
    if (exact) return [{ path: dir.split("/").pop()!, sha256: exact.sha256, size: exact.size }];
    return (await this.options.store.listArtifacts(project, dir)).map((r) => ({
      path: r.path.slice(dir.length + 1),
      sha256: r.sha256,
      size: r.size,
    }));
  }

  /** The file at `path`, or null when there is none (it may be a directory). */
  file(project: string, rawPath: string): Promise<ArtifactRecord | null> {
    return this.options.store.getArtifact(project, safeRelativePath(rawPath));
  }

  async get(project: string, rawPath: string): Promise<{ record: ArtifactRecord; stream: Readable }> {
    const path = safeRelativePath(rawPath);
    const record = await this.options.store.getArtifact(project, path);
    if (!record) throw new NotFoundError(`No artifact at '${path}'`);
    return { record, stream: await this.options.artifacts.getBlob(record.sha256) };
  }

  /** The direct children of a directory (files and subdirectories), paths relative to `dir`. */
  async list(project: string, rawDir: string | undefined): Promise<ArtifactFile[]> {
    const dir = rawDir && rawDir.replace(/^\/+|\/+$/g, "") ? safeRelativePath(rawDir) : "";
    const records = await this.options.store.listArtifacts(project, dir);
    const children = new Map<string, ArtifactFile>();
    for (const r of records) {
      const rest = dir ? r.path.slice(dir.length + 1) : r.path;
      if (!rest) continue;
      const slash = rest.indexOf("/");
      const name = slash < 0 ? rest : rest.slice(0, slash);
      if (!children.has(name))
        children.set(
          name,
          slash < 0 ? { path: name, isDir: false, size: r.size } : { path: name, isDir: true, size: null },
        );
    }
    return [...children.values()];
  }

  async delete(actor: string, project: string, rawPath: string): Promise<number> {
    const path = safeRelativePath(rawPath);
    return audited(this.options.metadata, this.options.audit, async (tx, audit) => {
      const n = await this.options.store.deleteArtifacts(project, path, tx);
      if (n === 0) throw new NotFoundError(`No artifact at '${path}'`);
      await audit({
        actor,
        project,
        action: "tracking.artifact.delete",
        target: `artifact:${path}`,
        summary: { files: n },
      });
      return n;
    });
  }

  /**
   * Purges runs deleted at least `olderThanMs` ago (default: all deleted runs) with everything they
   * logged, then deletes the blobs no artifact row and no other area still references.
   */
  async collectGarbage(
    actor: string,
    options: { olderThanMs?: number; project?: string; limit?: number } = {},
  ): Promise<GcResult> {
    const runs = await this.options.store.deletedRunsBefore(
      nowMs() - (options.olderThanMs ?? 0),
      options.limit ?? 10_000,
      options.project,
    );
    const candidates = new Set<string>();
    const purgedRuns: string[] = [];
    for (const run of runs) {
      const shas = await audited(this.options.metadata, this.options.audit, async (tx, audit) => {
        const freed = await this.options.store.purgeRun(run.runId, tx);
        await audit({
          actor,
          project: run.project,
          action: "tracking.run.purge",
          target: `run:${run.runId}`,
          summary: { artifacts: freed.length },
        });
        return freed;
      });
      purgedRuns.push(run.runId);
      for (const s of shas) candidates.add(s);
    }
    let deletedBlobs = 0;
    let freedBytes = 0;
    const list = [...candidates];
    if (list.length) {
      const kept = await this.options.store.referencedBlobs(list);
      for (const check of this.externalReferenceChecks) for (const s of await check(list)) kept.add(s);
      for (const sha of list) {
        if (kept.has(sha)) continue;
        const stat = await this.options.artifacts.statBlob(sha);
        if (!stat) continue;
        await this.options.artifacts.deleteBlob(sha);
        deletedBlobs++;
        freedBytes += stat.size;
      }
    }
    return { purgedRuns, deletedBlobs, freedBytes };
  }
}
