/**
 * Code a project wrote that the server starts outside a pipeline step, in the steps' sandbox
 * (sandbox.ts) with a step's environment (step-env.ts):
 * - models served as code (a MODEL.json command, an MLflow model run by `mlflow models serve`,
 *   whose python_function flavour imports the model's own loader_module or unpickles its
 *   cloudpickle), for as long as the endpoint lives. They see their own files read-only: unpacked
 *   once per artifact, every endpoint serving the same files, in any project, runs them;
 * - `command:` scorers of tandem/eval, a built-in step that runs inside the server, in the step's
 *   own directory (its run's checkout shown again, as for a `run:` step).
 * The server's home (admin.token, secret.key, the SQLite file, every project's artifacts), the step
 * directories and checkouts are hidden, the host is read-only but the temporary folders, the
 * server's processes are out of sight, and no TANDEM_* setting (the database URL, the secret key)
 * nor the server's S3 or Postgres credentials are passed on.
 *
 * One bwrap start per process start (about 15 ms of CPU, issue 18): a served model's, never per
 * prediction (requests reach it over loopback HTTP as before: the sandbox keeps the host's
 * network); a scorer's, once per case, as its `sh -c` always was a process per case.
 */
import type { UserCodeLauncher } from "../../core/ports.js";
import { BWRAP, programPath, sandboxArgv, sandboxForAsync, type SandboxMode } from "./sandbox.js";
import { stepEnvironment } from "./step-env.js";

export interface UserCodeSandboxOptions {
  /** TANDEM_STEP_SANDBOX: as for steps (`none`: plain child processes, environment still scrubbed). */
  mode: SandboxMode;
  /** The server's private paths (serverPrivatePaths, the checkouts), hidden as from steps. */
  hide: string[];
  /** TANDEM_STEP_WRITABLE. */
  writable: string[];
  /** As LocalExecutorOptions.code (TANDEM_PYTHON's virtual environment, read-only). */
  code: string[];
}

/** Starts code a project wrote as steps are started (see the file's comment). */
export function userCodeSandbox(options: UserCodeSandboxOptions): UserCodeLauncher {
  return async ({ command, dir, env, readOnlyDir, show }) => {
    const scrubbed = stepEnvironment(env);
    if (!(await sandboxForAsync(options.mode)).isolated) return { argv: command, env: scrubbed, sandboxed: false };
    const argv = sandboxArgv({
      command,
      workdir: dir,
      readOnlyWorkdir: readOnlyDir,
      hide: options.hide,
      writable: options.writable,
      show,
      code: options.code,
      bwrap: programPath(BWRAP),
    });
    return { argv, env: scrubbed, sandboxed: true };
  };
}

/** No sandbox, the environment scrubbed all the same (a serving factory made without one: tools). */
export const unsandboxedUserCode: UserCodeLauncher = ({ command, env }) =>
  Promise.resolve({ argv: command, env: stepEnvironment(env), sandboxed: false });
