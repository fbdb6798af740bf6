import { createHash } from "node:crypto";
import { InvalidInputError } from "../errors.js";
import { assertSha256, safeRelativePath } from "./paths.js";
import type { ArtifactStore, Manifest, ManifestEntry } from "./ports.js";

/** Canonical JSON of a manifest: entries sorted by path, fixed key order, so equal trees hash equal. */
export function canonicalManifest(entries: ManifestEntry[]): string {
  const sorted = entries
    .map((e) => ({ path: safeRelativePath(e.path), sha256: e.sha256, size: e.size }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.path === sorted[i - 1]!.path) throw new InvalidInputError(`manifest lists ${sorted[i]!.path} twice`);
  }
  for (const e of sorted) assertSha256(e.sha256);
  return JSON.stringify({ entries: sorted });
}

export function manifestHash(entries: ManifestEntry[]): string {
  return createHash("sha256").update(canonicalManifest(entries)).digest("hex");
}

export async function putManifest(store: ArtifactStore, entries: ManifestEntry[]): Promise<string> {
  const info = await store.putBlob(canonicalManifest(entries));
  return info.sha256;
}

export async function getManifest(store: ArtifactStore, sha256: string): Promise<Manifest> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getBlob(sha256)) chunks.push(chunk as Buffer);
  const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Manifest;
  if (!parsed || !Array.isArray(parsed.entries)) throw new InvalidInputError(`blob ${sha256} is not a manifest`);
  return parsed;
}
