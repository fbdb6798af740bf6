/**
 * Programs the server itself starts whose behaviour a project can choose, in the steps' sandbox,
 * from / (no working directory of their own):
 * - The server's own git calls. The folders the server runs git in may be written by steps: a
 *   manual run's workspace or a polled repository in a temporary folder or in TANDEM_STEP_WRITABLE
 *   (a step reaches it through the links in its directory, or by its absolute path), and the
 *   checkouts of commits beside the work dir. A repository's own config runs commands: a clean
 *   filter (`filter.<name>.clean` with a `.gitattributes` line) at `git status`, a credential
 *   helper or `core.sshCommand` at a fetch, core.fsmonitor (turned off by git.ts, but the list is
 *   open-ended). Costs one bwrap start per git call (about 15 ms of CPU, issue 18), a handful per
 *   manual run or polled trigger.
 * - The interpreters a step's own PATH names (probe.ts): `env: { PATH: <project>/bin:… }` makes the
 *   server's `node --version` the project's program. Costs two bwrap starts per distinct step PATH
 *   per run; steps without a PATH of their own are probed on the server's, as before.
 * Run as the server, any of them would read the home the sandbox hides from the step that planted
 * it. In the sandbox they run as that step could have: the home hidden, the host read-only.
 */
import { mkdir } from "node:fs/promises";
import type { GitWrap } from "./git.js";
import { BWRAP, programPath, sandboxArgv, sandboxForAsync, type SandboxMode } from "./sandbox.js";

export interface HostSandboxOptions {
  /** TANDEM_STEP_SANDBOX: `none` runs the program as is (steps read the home anyway). */
  mode: SandboxMode;
  /** The server's private paths (serverPrivatePaths, the checkouts), hidden as from steps. */
  hide: string[];
  /** TANDEM_STEP_WRITABLE, and what the program itself must write. */
  writable: string[];
  /** As LocalExecutorOptions.code. */
  code: string[];
}

/** An argv → the argv that runs it in the sandbox from / (the argv itself where steps are not isolated). */
export type HostWrap = (argv: string[]) => Promise<string[]>;

export function hostSandbox(options: HostSandboxOptions): HostWrap {
  return async (argv) => {
    if (!(await sandboxForAsync(options.mode)).isolated) return argv;
    return sandboxArgv({
      command: argv,
      hide: options.hide,
      writable: options.writable,
      code: options.code,
      bwrap: programPath(BWRAP),
    });
  };
}

export interface GitSandboxOptions extends HostSandboxOptions {
  /** Where checkouts of commits go: git writes there (made first, as bwrap binds only what exists). */
  checkouts: string;
}

export function gitSandbox(options: GitSandboxOptions): GitWrap {
  let made: Promise<unknown> | undefined;
  const wrap = hostSandbox({ ...options, writable: [...options.writable, options.checkouts] });
  return async (argv) => {
    await (made ??= mkdir(options.checkouts, { recursive: true }));
    return wrap([programPath(argv[0]!), ...argv.slice(1)]);
  };
}
