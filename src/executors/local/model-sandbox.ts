/**
 * Models served as code (a MODEL.json command, an MLflow model run by `mlflow models serve`, whose
 * python_function flavour imports the model's own loader_module or unpickles its cloudpickle) run
 * what a project member uploaded, for as long as the endpoint lives. They start in the steps'
 * sandbox (sandbox.ts), with the environment of a step (step-env.ts): the server's home (admin.token,
 * secret.key, the SQLite file, every project's artifacts), the step directories and checkouts are
 * hidden, the host is read-only, the server's processes are out of sight, and no TANDEM_* setting
 * (the database URL, the secret key) nor the server's S3 or Postgres credentials are passed on. The
 * model sees its own files read-only: they are unpacked once per artifact, and every endpoint
 * serving the same files, in any project, runs them. It writes the temporary folders, as a step.
 *
 * One bwrap start per model process start (about 15 ms of CPU, issue 18), never per prediction:
 * requests reach the process over loopback HTTP as before, as the sandbox keeps the host's network.
 */
import { BWRAP, programPath, sandboxArgv, sandboxForAsync, type SandboxMode } from "./sandbox.js";
import { stepEnvironment } from "./step-env.js";

/** A served model's process as the serving code asks for it. */
export interface ModelCommand {
  /** The program and its arguments. */
  command: string[];
  /** The model's unpacked directory: its working directory. */
  dir: string;
  /** What the process is told besides the scrubbed environment (PORT, TANDEM_MODEL…). */
  env: Record<string, string>;
}

/** How it is started: the argv to spawn and its environment; `sandboxed` when inside bwrap. */
export interface ModelLaunch {
  argv: string[];
  env: Record<string, string>;
  sandboxed: boolean;
}

export type ModelLauncher = (model: ModelCommand) => Promise<ModelLaunch>;

export interface ModelSandboxOptions {
  /** TANDEM_STEP_SANDBOX: as for steps (`none`: plain child processes, environment still scrubbed). */
  mode: SandboxMode;
  /** The server's private paths (serverPrivatePaths, the checkouts), hidden as from steps. */
  hide: string[];
  /** TANDEM_STEP_WRITABLE. */
  writable: string[];
  /** As LocalExecutorOptions.code (TANDEM_PYTHON's virtual environment, read-only). */
  code: string[];
}

/** Starts served models as steps are started (see the file's comment). */
export function modelSandbox(options: ModelSandboxOptions): ModelLauncher {
  return async ({ command, dir, env }) => {
    const scrubbed = stepEnvironment(env);
    if (!(await sandboxForAsync(options.mode)).isolated) return { argv: command, env: scrubbed, sandboxed: false };
    const argv = sandboxArgv({
      command,
      workdir: dir,
      readOnlyWorkdir: true,
      hide: options.hide,
      writable: options.writable,
      code: options.code,
      bwrap: programPath(BWRAP),
    });
    return { argv, env: scrubbed, sandboxed: true };
  };
}

/** No sandbox, the environment scrubbed all the same (a factory made without one: tests, tools). */
export const unsandboxedModels: ModelLauncher = ({ command, env }) =>
  Promise.resolve({ argv: command, env: stepEnvironment(env), sandboxed: false });
