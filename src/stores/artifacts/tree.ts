/**
 * Directory trees in and out of the artifact store: a tree becomes blobs plus a manifest; a manifest
 * becomes files again, each verified against its hash on the way out.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { getManifest, putManifest } from "../../core/artifacts/manifest.js";
import { safeRelativePath } from "../../core/artifacts/paths.js";
import type { ArtifactStore, ManifestEntry } from "../../core/artifacts/ports.js";

/**
 * Every regular file below `root`, as POSIX relative paths, sorted. Symlinks are not followed;
 * `skip(fullPath)` leaves a file or folder out.
 */
export async function listFiles(root: string, skip?: (fullPath: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (skip?.(full)) continue;
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(relative(root, full).split(sep).join("/"));
    }
  }
  await walk(root);
  return out.sort();
}

/** Stores every file of a directory (or a single file, as its base name) and returns the manifest hash. */
export async function putTree(
  store: ArtifactStore,
  path: string,
  options: {
    /** Leave these files and folders out (default: none). */
    skip?: (fullPath: string) => boolean;
    /** A single file's entry name (default: its base name). */
    fileName?: string;
  } = {},
): Promise<{ manifest: string; entries: ManifestEntry[] }> {
  const info = await stat(path);
  const entries: ManifestEntry[] = [];
  if (info.isFile()) {
    const blob = await store.putBlob(createReadStream(path));
    entries.push({ path: options.fileName ?? path.split(sep).pop()!, sha256: blob.sha256, size: blob.size });
  } else {
    for (const file of await listFiles(path, options.skip)) {
      const blob = await store.putBlob(createReadStream(join(path, file)));
      entries.push({ path: file, sha256: blob.sha256, size: blob.size });
    }
  }
  return { manifest: await putManifest(store, entries), entries };
}

/** Writes one blob to `dest` through a temp file, verified, then renamed into place. */
export async function materializeBlob(store: ArtifactStore, sha256: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const temp = `${dest}.tandem-part`;
  try {
    await pipeline(await store.getBlob(sha256), createWriteStream(temp));
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Recreates the tree of a manifest under `dest` (created if needed), every file verified. */
export async function materializeTree(
  store: ArtifactStore,
  manifestSha: string,
  dest: string,
): Promise<ManifestEntry[]> {
  const manifest = await getManifest(store, manifestSha);
  await mkdir(dest, { recursive: true });
  for (const entry of manifest.entries) {
    await materializeBlob(store, entry.sha256, join(dest, safeRelativePath(entry.path)));
  }
  return manifest.entries;
}
