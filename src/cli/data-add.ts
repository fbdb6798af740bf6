/**
 * `tandem data add`: walks a file or tree, hashes what the stat cache does not know, stores or
 * uploads only what is missing and records the version; an unchanged tree answers with the latest
 * version after one stat per file.
 */
import { createReadStream } from "node:fs";
import { manifestHash } from "../core/artifacts/manifest.js";
import type { DatasetVersionWire } from "../server/routes/data-version-wire.js";
import { ApiError, type TandemApi } from "./api.js";
import { cliConfig, projectPath } from "./context.js";
import { collectFiles, pool, StatCache, StatTree, treeFacts, uploadFile, type LocalFile } from "./data-files.js";

/** A dataset version as the data routes answer it. */
export type VersionWire = DatasetVersionWire;

/** Adds above these sizes show a progress bar (on a terminal, without --json). */
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;
const PROGRESS_MIN_FILES = 200;
export const PARALLEL = 8;

export const datasetPath = (project: string, name: string, rest = "") =>
  projectPath(project, `/datasets/${encodeURIComponent(name)}${rest}`);

export function humanBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) [n, i] = [n / 1000, i + 1];
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

async function progressBar(
  total: number,
  files: number,
  json: boolean,
): Promise<{ tick(n: number): void; stop(): void }> {
  if (json || !process.stderr.isTTY || (total < PROGRESS_MIN_BYTES && files < PROGRESS_MIN_FILES))
    return { tick: () => undefined, stop: () => undefined };
  // Loaded only to show a bar: its 19 modules cost about 15 ms of CPU that a re-add never needs.
  const { SingleBar } = await import("cli-progress");
  const bar = new SingleBar({
    stream: process.stderr,
    format: "adding [{bar}] {percentage}% | {done} of {all} | {eta_formatted} left",
    hideCursor: true,
  });
  let done = 0;
  bar.start(total, 0, { done: humanBytes(0), all: humanBytes(total) });
  return {
    tick(n) {
      done += n;
      bar.update(done, { done: humanBytes(done), all: humanBytes(total) });
    },
    stop: () => bar.stop(),
  };
}

/**
 * The checks of the route `latestVersion` stands in for (src/server/routes/data.ts): a viewer's read,
 * not a tracking route. data-add-guard.test.ts holds it to that route's own role, tags and auth.
 */
export const LATEST_VERSION_GUARD = {
  role: "viewer" as const,
  route: { method: "GET" as const, url: "/api/v1/projects/:project/datasets/:name/versions", tags: ["data"] },
};

/**
 * The dataset's latest version (undefined when it has none), as `GET …/versions` answers it. Embedded,
 * read from the data service after that route's checks (api.embeddedRead), so a re-add of unchanged
 * data never builds the HTTP app; when that read fails (no such dataset, no role, a bad token), the
 * route is asked, and its answer or error stands.
 */
async function latestVersion(api: TandemApi, project: string, name: string): Promise<VersionWire | undefined> {
  const path = datasetPath(project, name, "/versions");
  const direct = await api.embeddedRead({ project, ...LATEST_VERSION_GUARD }, async (services) => {
    const [latest] = await services.data.listVersions(project, name);
    if (!latest) return null;
    const { versionToWire } = await import("../server/routes/data-version-wire.js");
    // Through JSON as the route's answer is: the same fields, in the same order.
    return JSON.parse(JSON.stringify(versionToWire(latest))) as VersionWire;
  });
  if (direct) return direct;
  return api
    .get<{ versions: VersionWire[] }>(path)
    .then((r) => r.versions[0])
    .catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    });
}

export async function addPath(
  api: TandemApi,
  project: string,
  path: string,
  opts: { name: string; json?: boolean; message?: string; profile: boolean },
): Promise<{ created: boolean; version: VersionWire; uploaded: { files: number; bytes: number } }> {
  const { kind, root, files } = await collectFiles(path);
  const { openClientState } = await import("../main.js");
  const state = openClientState(cliConfig());
  const sent = { files: 0, bytes: 0 };
  // Every file as the last add of this path saw it (StatTree): the manifest is known, so an unchanged
  // dataset answers with its latest version before the per-file cache is even read.
  const facts = treeFacts(files);
  const tree = await StatTree.load(state, root);
  const known = tree.manifest(kind, facts);
  const latest = known ? latestVersion(api, project, opts.name) : null;
  const answered = await latest;
  if (answered && answered.manifest_sha256 === known && answered.kind === kind)
    return { created: false, version: answered, uploaded: sent };
  const cache = await StatCache.load(state, root);
  const base = datasetPath(project, opts.name);
  const unknown: LocalFile[] = [];
  for (const f of files) {
    f.sha256 = cache.lookup(f);
    if (!f.sha256) unknown.push(f);
  }
  const bar = await progressBar(
    unknown.reduce((s, f) => s + f.size, 0),
    unknown.length,
    Boolean(opts.json),
  );
  const embedded = api.embeddedServices?.services.data;
  const upload = async (f: LocalFile, onBytes?: (n: number) => void) => {
    // Embedded: the store reads the file itself (hashing and copying in one pass on a worker thread)
    // instead of receiving its bytes through the in-process HTTP layer.
    const sha = embedded
      ? (await embedded.putLocalFile(() => createReadStream(f.abs), f.abs)).sha256
      : await uploadFile(api, base, f, onBytes);
    if (embedded) onBytes?.(f.size);
    sent.files++;
    sent.bytes += f.size;
    return sha;
  };
  try {
    if (embedded) {
      // One pass per new file: the store hashes while it copies, and keeps one copy per content.
      await pool(unknown, PARALLEL, async (f) => {
        f.sha256 = await upload(f, bar.tick);
        cache.remember(f, f.sha256);
      });
    } else {
      // Over the network: hash here (on worker threads, every core), then send only what the server lacks.
      const hashing = await import("../stores/artifacts/hash-workers.js");
      await pool(unknown, PARALLEL, async (f) => {
        f.sha256 = (await hashing.hashLocalFile(f.abs)).sha256;
        bar.tick(f.size);
        cache.remember(f, f.sha256);
      });
    }
    await cache.save();
    const entries = files.map((f) => ({ path: f.path, sha256: f.sha256!, size: f.size }));
    // Same content as the latest version: answer with it without asking about blobs (the re-add case).
    const manifest = manifestHash(entries);
    if (cache.coversAll(files)) await tree.save(kind, facts, manifest);
    // Asked already when the tree summary knew the manifest: nothing was hashed since.
    const current = latest ? answered : await latestVersion(api, project, opts.name);
    if (current && current.manifest_sha256 === manifest && current.kind === kind)
      return { created: false, version: current, uploaded: sent };
    const bySha = new Map(files.map((f) => [f.sha256!, f]));
    const sendMissing = async (missing: string[]) =>
      pool(missing, PARALLEL, async (sha) => void (await upload(bySha.get(sha)!)));
    const { missing } = await api.post<{ missing: string[] }>(`${base}/blobs/missing`, { sha256s: [...bySha.keys()] });
    await sendMissing(missing);
    const body = { entries, kind, message: opts.message ?? null, profile: opts.profile };
    try {
      const res = await api.post<{ created: boolean; version: VersionWire }>(`${base}/versions`, body);
      return { ...res, uploaded: sent };
    } catch (error) {
      // A blob vanished between the check and the commit (a garbage collection): send it and retry once.
      const again =
        (error instanceof ApiError &&
          error.status === 409 &&
          (error.details as { missing?: string[] } | undefined)?.missing) ||
        null;
      if (!again) throw error;
      await sendMissing(again);
      const res = await api.post<{ created: boolean; version: VersionWire }>(`${base}/versions`, body);
      return { ...res, uploaded: sent };
    }
  } finally {
    bar.stop();
  }
}
