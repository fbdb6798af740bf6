#!/usr/bin/env node
// The `tandem` binary. It runs the compiled dist/ (built by `npm run build:dist`, and on `npm ci`
// and `npm pack` through `prepare`): the CLI's bundle, dist/cli-bundle/, one file per lazily loaded
// part rather than one per module (scripts/build-dist.mjs). In a working tree whose src/ is newer than dist/, it still runs
// dist/ and says so once on stderr, rather than silently spending about 1 s of CPU per command
// compiling the sources. TANDEM_FROM_SOURCE=1 runs the TypeScript sources through tsx instead (a dev
// dependency: development trees only).
//
// Keep this file small and free of heavy imports: every command starts here.
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const builtMarker = join(root, "dist", ".built");
const sources = join(root, "src");

/** Test files are not built into dist/ (scripts/build-dist.mjs), so editing one leaves dist/ current. */
const notBuilt = (name) => name.endsWith(".test.ts");

/**
 * The first file under `dir` that dist/ is built from, modified after `time`, or null. Each file's
 * own mtime, not its directory's: an editor that saves in place (VS Code, `>>`) leaves the directory
 * as it was. Paths joined as strings: readdir's names need none of path.join's normalising, which
 * was about a third of the check (28 -> 20 ms of CPU for src/'s ~550 files, load 18; issue 18:
 * every command in a checkout pays it).
 */
function newerFile(dir, time) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      const found = newerFile(full, time);
      if (found) return found;
    } else if (!notBuilt(entry.name) && statSync(full).mtimeMs > time) return full;
  }
  return null;
}

function say(message) {
  // Child processes that tandem starts (servers, step agents) inherit this and stay quiet.
  if (process.env.TANDEM_BUILD_NOTICE_GIVEN) return;
  process.env.TANDEM_BUILD_NOTICE_GIVEN = "1";
  process.stderr.write(`tandem: ${message}\n`);
}

async function fromSource() {
  let register;
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    process.stderr.write("tandem: running the sources needs the dev dependency tsx: run npm ci in the repository\n");
    process.exit(5);
  }
  register();
  return import("../src/cli/index.ts");
}

let entry;
if (process.env.TANDEM_FROM_SOURCE === "1") {
  entry = await fromSource();
} else if (!existsSync(builtMarker)) {
  if (!existsSync(sources)) {
    process.stderr.write("tandem: this installation has no dist/: reinstall the package\n");
    process.exit(5);
  }
  say("dist/ is not built, so the sources run through tsx (slower): run npm run build:dist");
  entry = await fromSource();
} else {
  if (existsSync(sources)) {
    const newer = newerFile(sources, statSync(builtMarker).mtimeMs);
    if (newer) {
      say(
        `${newer.slice(root.length + 1)} is newer than dist/, which runs anyway: ` +
          "run npm run build:dist, or set TANDEM_FROM_SOURCE=1 to run the sources",
      );
    }
  }
  entry = await import("../dist/cli-bundle/index.js");
}
process.exitCode = await entry.main(process.argv);
