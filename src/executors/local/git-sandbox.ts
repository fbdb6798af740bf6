/**
 * The server's own git calls, in the steps' sandbox. The folders the server runs git in may be
 * written by steps: a manual run's workspace or a polled repository in a temporary folder or in
 * TANDEM_STEP_WRITABLE (a step reaches it through the links in its directory, or by its absolute
 * path), and the checkouts of commits beside the work dir. A repository's own config runs commands:
 * a clean filter (`filter.<name>.clean` with a `.gitattributes` line) at `git status`, a credential
 * helper or `core.sshCommand` at a fetch, core.fsmonitor (turned off by git.ts, but the list is
 * open-ended). Run as the server, any of them would read the home the sandbox hides from the step
 * that planted it. In the sandbox they run as that step could have: the home hidden, the host
 * read-only. Costs one bwrap start per git call (about 15 ms of CPU, issue 18), a handful per
 * manual run or polled trigger.
 */
import { mkdir } from "node:fs/promises";
import type { GitWrap } from "./git.js";
import { BWRAP, programPath, sandboxArgv, sandboxForAsync, type SandboxMode } from "./sandbox.js";

export interface GitSandboxOptions {
  /** TANDEM_STEP_SANDBOX: `none` runs git as is (steps read the home anyway). */
  mode: SandboxMode;
  /** The server's private paths (serverPrivatePaths), hidden as from steps. */
  hide: string[];
  /** TANDEM_STEP_WRITABLE. */
  writable: string[];
  /** As LocalExecutorOptions.code. */
  code: string[];
  /** Where checkouts of commits go: git writes there (made first, as bwrap binds only what exists). */
  checkouts: string;
}

export function gitSandbox(options: GitSandboxOptions): GitWrap {
  let made: Promise<unknown> | undefined;
  return async (argv) => {
    if (!(await sandboxForAsync(options.mode)).isolated) return argv;
    await (made ??= mkdir(options.checkouts, { recursive: true }));
    return sandboxArgv({
      command: [programPath(argv[0]!), ...argv.slice(1)],
      hide: options.hide,
      writable: [...options.writable, options.checkouts],
      code: options.code,
      bwrap: programPath(BWRAP),
    });
  };
}
