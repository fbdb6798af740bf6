/**
 * Runs a guide's blocks (parsed by guide-blocks.ts) as a newcomer would: in a fresh folder with a fresh
 * TANDEM_HOME, in order, each block a `bash -e` script that carries the previous blocks' variables,
 * functions and working directory. The folder is a project that has installed `tandem` and `tsx`
 * (node_modules links to this repository's built package), so `tandem`, `npx tandem` and
 * `import … from "tandem"` work without touching the network or the repository.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Block, Guide } from "./guide-blocks.js";
import { matches, normalise } from "./guide-output.js";

const ROOT = resolve(import.meta.dirname, "../..");
/** npm's npx beside this node (the one `npx tandem` would run without the shim below). */
const npxPath = join(dirname(process.execPath), "npx");

export interface BlockOutcome {
  file: string;
  line: number;
  /** "ran" (and matched), "failed" (with why), or "skipped" (with why). */
  status: "ran" | "failed" | "skipped";
  why?: string;
}

/** What the machine offers a block that says `needs=…`: the environment it adds, or why it cannot run. */
export type Needs = Record<string, () => { env: Record<string, string> } | { reason: string }>;

/** Makes the guide's folder: a project with `tandem` and `tsx` installed (linked), and its own home and tmp. */
function makeFolder(): { dir: string; tmp: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), "tandem-guide-"));
  const modules = join(dir, "node_modules");
  mkdirSync(join(modules, ".bin"), { recursive: true });
  symlinkSync(ROOT, join(modules, "tandem"));
  symlinkSync(join(ROOT, "node_modules", "tsx"), join(modules, "tsx"));
  symlinkSync("../tandem/bin/tandem.js", join(modules, ".bin", "tandem"));
  symlinkSync("../tsx/dist/cli.mjs", join(modules, ".bin", "tsx"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "guide", private: true, type: "module" }) + "\n");
  // `npx <bin>` runs the project's installed bin; this does the same without npm's ~1 s start per call
  // (a guide calls it dozens of times), and falls back to the real npx for anything else.
  const shims = join(dir, ".guide-bin");
  mkdirSync(shims);
  writeFileSync(
    join(shims, "npx"),
    `#!/bin/sh\n[ -x "${modules}/.bin/$1" ] && { b=$1; shift; exec "${modules}/.bin/$b" "$@"; }\nexec "${npxPath}" "$@"\n`,
    { mode: 0o755 },
  );
  const tmp = join(dir, ".tmp");
  const state = join(dir, ".guide-state");
  // TANDEM_HOME exists and is empty, as `tandem quickstart` wants a home it may fill.
  for (const d of [tmp, state, join(dir, ".home"), join(dir, ".tandem")]) mkdirSync(d);
  return { dir, tmp, state };
}

/** The shell around each block: restore the previous block's state, run with -e, save the state. */
const wrapper = (state: string, script: string) => `
cd "$(cat '${state}/cwd' 2>/dev/null || pwd)"
source '${state}/vars' 2>/dev/null
set -e
__save() {
  local rc=$?
  pwd > '${state}/cwd'
  for v in $(compgen -v); do
    case $v in BASH*|EUID|PPID|SHELLOPTS|UID|FUNCNAME|GROUPS|DIRSTACK|PIPESTATUS|RANDOM|SRANDOM|SECONDS|LINENO|OPTIND|OPTARG|HISTCMD|EPOCH*|COLUMNS|LINES|PWD|OLDPWD|SHLVL|IFS|PS[0-9]|_|rc|v) continue;; esac
    declare -p "$v" 2>/dev/null
  done > '${state}/vars'
  declare -f >> '${state}/vars'
  exit $rc
}
trap __save EXIT
${script}`;

/** Runs one block; resolves with its exit code and combined output (null code: timed out). */
function runScript(
  script: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutS: number; outFile: string; groups: number[] },
): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const fd = openSync(options.outFile, "w");
    // Its own process group, so a server started with `&` is found and stopped when the guide ends.
    const child = spawn("bash", ["-c", script], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    if (child.pid) options.groups.push(child.pid);
    const timer = setTimeout(() => {
      killGroup(child.pid);
      finish(null);
    }, options.timeoutS * 1000);
    let finished = false;
    const finish = (code: number | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done({ code, output: readFileSync(options.outFile, "utf8") });
    };
    child.on("exit", (code, signal) => finish(code ?? (signal ? 128 : 1)));
    child.on("error", () => finish(127));
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals = "SIGTERM"): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group has already ended.
  }
}

/** The environment of every block: nothing of the test process's Tandem settings leaks in. */
function baseEnv(dir: string, tmp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^(TANDEM_|npm_|NODE_OPTIONS|VITEST|TEST$|PG|AWS_|SLURM_)/.test(key)) env[key] = value;
  return {
    ...env,
    PATH: [
      join(dir, ".guide-bin"),
      join(dir, "node_modules", ".bin"),
      dirname(process.execPath),
      "/usr/local/bin",
      "/usr/bin",
      "/bin",
    ].join(":"),
    HOME: join(dir, ".home"),
    TMPDIR: tmp,
    TANDEM_HOME: join(dir, ".tandem"),
    NO_COLOR: "1",
    npm_config_offline: "true",
    npm_config_update_notifier: "false",
    npm_config_cache: join(tmp, "npm-cache"),
  };
}

/**
 * Runs `guides` (the first ones are those it continues, each run before the next) in one folder, and
 * returns an outcome per block of the last guide; blocks of the guides it continues report only failures.
 */
export async function runGuide(
  guides: Guide[],
  needs: Needs,
  /** Sees each run block's raw output (for writing a guide's output blocks). */
  onOutput?: (file: string, line: number, output: string, code: number | null) => void,
): Promise<BlockOutcome[]> {
  const { dir, tmp, state } = makeFolder();
  const env = baseEnv(dir, tmp);
  const groups: number[] = [];
  const outcomes: BlockOutcome[] = [];
  try {
    for (const [index, guide] of guides.entries()) {
      const own = index === guides.length - 1;
      for (const error of guide.errors) outcomes.push({ file: guide.file, line: 0, status: "failed", why: error });
      if (guide.errors.length > 0) return outcomes;
      for (const block of guide.blocks) {
        const outcome = await runBlock(block, {
          dir,
          tmp,
          state,
          env,
          groups,
          needs,
          onOutput: (out, code) => onOutput?.(guide.file, block.line, out, code),
        });
        if (own || outcome.status === "failed") outcomes.push({ file: guide.file, line: block.line, ...outcome });
        // Later blocks build on this one: there is no point running them after a failure.
        if (outcome.status === "failed") return outcomes;
      }
    }
    return outcomes;
  } finally {
    for (const pid of groups) killGroup(pid);
    await new Promise((r) => setTimeout(r, 500));
    for (const pid of groups) killGroup(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runBlock(
  block: Block,
  context: {
    dir: string;
    tmp: string;
    state: string;
    env: NodeJS.ProcessEnv;
    groups: number[];
    needs: Needs;
    onOutput: (output: string, code: number | null) => void;
  },
): Promise<Omit<BlockOutcome, "file" | "line">> {
  const { dir, tmp, state, groups } = context;
  if (block.kind === "skip") return { status: "skipped", why: block.reason };
  if (block.kind === "file") {
    const cwd = existsSync(join(state, "cwd")) ? readFileSync(join(state, "cwd"), "utf8").trim() : dir;
    mkdirSync(dirname(join(cwd, block.path)), { recursive: true });
    writeFileSync(join(cwd, block.path), block.content);
    return { status: "ran" };
  }
  const env = { ...context.env };
  for (const need of block.needs) {
    const check = context.needs[need]?.() ?? { reason: `the runner knows no need called ${need}` };
    if ("reason" in check) return { status: "skipped", why: `needs ${need}: ${check.reason}` };
    Object.assign(env, check.env);
  }
  const outFile = join(state, `out-${block.line}`);
  const { code, output } = await runScript(wrapper(state, block.script), {
    cwd: dir,
    env,
    timeoutS: block.timeoutS,
    outFile,
    groups,
  });
  context.onOutput(output, code);
  const shown = `--- it printed:\n${output.trimEnd()}`;
  if (code === null) return { status: "failed", why: `still running after ${block.timeoutS} s\n${shown}` };
  if (code !== block.exit)
    return { status: "failed", why: `exited ${code}, where the guide expects ${block.exit}\n${shown}` };
  if (block.expected) {
    const paths = { dir, tmp };
    const want = normalise(block.expected.text, paths);
    const got = normalise(output, paths);
    if (!matches(want, got))
      return {
        status: "failed",
        why: `its output differs from the block at line ${block.expected.line} (both normalised)\n--- expected:\n${want}\n--- got:\n${got}`,
      };
  }
  return { status: "ran" };
}
