// What the build scripts (build-dist.mjs, web/build.mjs) share: whether a build's output is older
// than what it is built from, so `prepare` (--if-stale) skips a build that `npm ci` has just made.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Every file below `dir`. */
export function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : [full];
  });
}

/** Whether `output` (a file the build writes last) is missing, or older than one of `inputs` (or one is missing). */
export function isStale(output, inputs) {
  try {
    const built = statSync(output).mtimeMs;
    return inputs().some((f) => statSync(f).mtimeMs > built);
  } catch {
    return true;
  }
}
