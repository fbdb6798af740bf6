/**
 * Git through its CLI: a local clone's branch head (polled git triggers), what commit a folder has
 * checked out and whether its tree is dirty (manual runs), and clean checkouts of one commit for
 * runs of a commit (pushes, polls, `tandem run --at`).
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { SourceControl } from "../../core/pipelines/ports.js";
import type { GitReader } from "../../core/pipelines/triggers.js";

/**
 * Settings on every git call of the server: git runs no fsmonitor and no hook whatever a repository's
 * or the user's config says (the server only reads, and checks out for itself). Credential helpers
 * are left alone: fetches of private repositories need them.
 */
const NO_PLANTED_COMMANDS = ["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"];

/** The argv that runs git's `args`, in the steps' sandbox where there is one (LocalGitOptions.sandbox). */
export type GitWrap = (argv: string[]) => Promise<string[]>;

/** git's answer, or a rejection carrying its stderr (the message a failed run shows). */
async function git(args: string[], options: { timeoutMs?: number; wrap?: GitWrap } = {}): Promise<string> {
  const argv = ["git", ...NO_PLANTED_COMMANDS, ...args];
  const [file, ...rest] = options.wrap ? await options.wrap(argv) : argv;
  return new Promise((resolve, reject) => {
    execFile(
      file!,
      rest,
      // A fetch from a slow remote may take a while; a local command answers in milliseconds.
      // GIT_TERMINAL_PROMPT=0: a remote that wants a password fails instead of waiting for a terminal.
      {
        timeout: options.timeoutMs ?? 10_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const text = `${stderr}`.trim() || error.message;
        reject(new Error(text.split("\n").slice(-3).join("; ")));
      },
    );
  });
}

/** `tandem.lock` and `.tandem/` are Tandem's own bookkeeping, never a change to the code. */
export function isTandemBookkeeping(path: string): boolean {
  const parts = path.split("/");
  return parts[parts.length - 1] === "tandem.lock" || parts.slice(0, -1).includes(".tandem");
}

/** Paths out of `git status --porcelain=v1 -z` (a rename lists its new path, then its old one). */
export function changedPaths(porcelain: string): string[] {
  const fields = porcelain.split("\0");
  const out: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!;
    if (entry.length < 4) continue;
    const status = entry.slice(0, 2);
    out.push(entry.slice(3));
    if (status.includes("R") || status.includes("C")) out.push(fields[++i]!);
  }
  return [...new Set(out)].filter((p) => p && !isTandemBookkeeping(p)).sort();
}

export interface LocalGitOptions {
  /** Where checkouts of commits go, one folder per run (outside the step work dir, which steps cannot see). */
  checkouts: string;
  /** How long a fetch may take (default 5 min). */
  fetchTimeoutMs?: number;
  /**
   * Runs each git call in the steps' sandbox (git-sandbox.ts): the folders git reads (workspaces,
   * polled repositories, checkouts in the temporary folder) may be written by steps, and a
   * repository's own config runs commands (a clean filter at `git status`, a credential helper at
   * a fetch) that would otherwise run as the server, with its home (default: none).
   */
  wrap?: GitWrap;
}

/**
 * HEAD's commit and its committer date in ms (DORA's change lead time starts there), or null
 * without a commit: one `log`, one sandbox start. --no-show-signature: a log.showSignature config
 * would print gpg's lines first.
 */
async function headOf(dir: string, wrap?: GitWrap): Promise<{ commit: string; committedAt: number | null } | null> {
  const args = ["-C", dir, "log", "-1", "--no-show-signature", "--format=%H %ct", "HEAD^{commit}", "--"];
  const [commit, seconds] = (await git(args, { wrap }).catch(() => "")).trim().split(" ");
  if (!commit) return null;
  const at = Number(seconds);
  return { commit, committedAt: seconds && Number.isFinite(at) ? at * 1000 : null };
}

export class LocalGit implements GitReader, SourceControl {
  constructor(private readonly options: LocalGitOptions) {}

  private git(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
    return git(args, { ...options, wrap: this.options.wrap });
  }

  head(repoPath: string, branch: string): Promise<string | null> {
    return this.git(["-C", repoPath, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]).then(
      (out) => out.trim() || null,
      () => null,
    );
  }

  async locate(dir: string): Promise<{ root: string; subdir: string } | null> {
    const root = await this.git(["-C", dir, "rev-parse", "--show-toplevel"]).catch(() => null);
    if (!root) return null;
    const top = root.trim();
    return { root: top, subdir: relative(top, dir).split(sep).join("/") };
  }

  /**
   * Two git calls, each a sandbox start (git-sandbox.ts, ~60 ms at load): HEAD and its date
   * (headOf), and `status`, whose porcelain paths are the repository root's from any folder in it,
   * so the root need not be asked for first.
   */
  async describe(
    dir: string,
  ): Promise<{ commit: string; committedAt: number | null; dirty: boolean; changed: string[] } | null> {
    const head = await headOf(dir, this.options.wrap);
    if (!head) return null;
    const status = await this.git([
      "-C",
      dir,
      "status",
      "--porcelain=v1",
      "-z",
      "--untracked-files=all",
      "--ignore-submodules=none",
    ]);
    const changed = changedPaths(status);
    return { ...head, dirty: changed.length > 0, changed };
  }

  /**
   * What git tracks below `dir` and would track (checkout-digest.ts): index entries with their blob
   * ids, and the changed, removed and untracked (not ignored) paths, relative to `dir`; null outside
   * git. One git call.
   */
  async listFiles(dir: string): Promise<string | null> {
    const args = ["-C", dir, "ls-files", "-t", "-s", "-m", "-o", "-d", "--exclude-standard", "-z"];
    return this.git(args, { timeoutMs: 60_000 }).catch(() => null);
  }

  private checkoutDir(runId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new Error(`not a run id: ${runId}`);
    return join(this.options.checkouts, runId);
  }

  async checkout(options: {
    source: string;
    commit: string;
    runId: string;
    subdir: string;
    specFile: string;
  }): Promise<{ workspace: string; spec: string | null; committedAt: number | null }> {
    const { source, commit } = options;
    // A commit id only: anything else would let a payload pass options to git fetch.
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) throw new Error(`not a full commit id: ${commit}`);
    const dir = this.checkoutDir(options.runId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o755 });
    try {
      await this.git(["init", "-q", dir]);
      // Only that commit, without history: a push's commit needs nothing else to run. `--` keeps a
      // source starting with "-" from being read as an option.
      // Only https and local folders: never a transport that runs a command (ext::) or another scheme.
      const protocols = [
        "-c",
        "protocol.allow=never",
        "-c",
        "protocol.https.allow=always",
        "-c",
        "protocol.file.allow=always",
      ];
      await this.git(["-C", dir, ...protocols, "fetch", "-q", "--depth", "1", "--no-tags", "--", source, commit], {
        timeoutMs: this.options.fetchTimeoutMs ?? 300_000,
      });
      await this.git(["-C", dir, "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", "FETCH_HEAD"]);
      const head = (await this.git(["-C", dir, "rev-parse", "HEAD"])).trim();
      if (head !== commit) throw new Error(`fetched ${head}, not ${commit}`);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`git could not fetch commit ${commit} from ${source}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const workspace = options.subdir ? join(dir, options.subdir) : dir;
    if (relative(dir, workspace).startsWith("..")) throw new Error(`${options.subdir} is outside the repository`);
    const spec = await readFile(join(workspace, options.specFile), "utf8").catch(() => null);
    return { workspace, spec, committedAt: (await headOf(dir, this.options.wrap))?.committedAt ?? null };
  }

  async release(runId: string): Promise<void> {
    await rm(this.checkoutDir(runId), { recursive: true, force: true });
  }
}
