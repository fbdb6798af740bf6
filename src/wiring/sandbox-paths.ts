/**
 * What the steps' sandbox is told about this server, in one place for everything that runs in it:
 * pipeline steps, the server's own git, the interpreters a step's PATH names, models served as code
 * and evaluations' command scorers.
 */
import { serverPrivatePaths, type Config } from "../config.js";
import type { UserCodeLauncher } from "../core/ports.js";
import type { HostSandboxOptions } from "../executors/local/git-sandbox.js";
import { programPath } from "../executors/local/sandbox.js";
import { pythonEnvironment } from "../executors/local/step-writes.js";
import { userCodeSandbox } from "../executors/local/user-code-sandbox.js";

/**
 * Where checkouts of commits go: beside the step work dir, not in it (a step's directory links to
 * its workspace's files). Hidden like the work dir; each step sees its own run's again.
 */
export function checkoutsOf(config: Config): string {
  return `${config.workDir}-checkouts`;
}

/** More of what the server runs, read-only in the sandbox even inside a writable folder: TANDEM_PYTHON's venv. */
export function sandboxedCode(config: Config): string[] {
  const serverPython = pythonEnvironment(programPath(config.mlflowServe.python));
  return serverPython ? [serverPython] : [];
}

/**
 * What every sandbox of this server is told: TANDEM_STEP_SANDBOX, the paths to hide (the server's
 * private paths and the checkouts; a step's own directory and checkout are mounted back), the
 * folders steps may write, and the server's code kept read-only.
 */
export function sandboxOptions(config: Config): HostSandboxOptions {
  return {
    mode: config.stepSandbox,
    hide: [...serverPrivatePaths(config), checkoutsOf(config)],
    writable: config.stepWritable,
    code: sandboxedCode(config),
  };
}

/** Services.userCode: code a project wrote, started outside a step, in the steps' sandbox. */
export function userCodeLauncher(config: Config): UserCodeLauncher {
  return userCodeSandbox(sandboxOptions(config));
}
