/**
 * Whether a cache entry's outputs are all still there before a hit reuses them, as Bazel asks its
 * remote cache for every output blob (FindMissingBlobs) before it takes a hit: each output's
 * manifest, read and checked against its hash, and every file blob it lists, present with the size
 * it was stored with. A blob deleted from the store, or cut short on disk or in S3, makes the step
 * run again instead of a hit that hands its dependants a broken output (a blob whose bytes changed
 * at the same size is caught where it is read: every read checks the hash).
 */
import { getManifest } from "../../artifacts/manifest.js";
import type { ArtifactStore } from "../../artifacts/ports.js";

/** Why the outputs cannot be reused (`b.txt of output out: blob 1a2b… is missing`), or null when they all can. */
export async function unusableOutputs(
  artifacts: ArtifactStore,
  outputs: Record<string, string>,
): Promise<string | null> {
  for (const [name, manifest] of Object.entries(outputs)) {
    const entries = await getManifest(artifacts, manifest).then(
      (m) => m.entries,
      () => null,
    );
    if (!entries) return `output ${name}: its manifest ${manifest.slice(0, 12)} is missing or corrupt`;
    const stats = await Promise.all(entries.map((e) => artifacts.statBlob(e.sha256)));
    for (const [i, e] of entries.entries()) {
      const stat = stats[i];
      if (!stat) return `${e.path} of output ${name}: blob ${e.sha256.slice(0, 12)} is missing`;
      if (stat.size !== e.size)
        return `${e.path} of output ${name}: blob ${e.sha256.slice(0, 12)} holds ${stat.size} bytes, not ${e.size}`;
    }
  }
  return null;
}
