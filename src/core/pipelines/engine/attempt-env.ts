/**
 * What a step attempt's process is given: the paths of its inputs and outputs, its rendered command
 * and its environment. One function for executeStep and for a step held before its dependencies
 * have ended (speculate.ts), so a process held ahead is only ever let go with exactly what the
 * step's attempt gets (the executor compares them before it does).
 */
import type { JobOutput, StepJob } from "../ports.js";
import type { StepExecution } from "../spec/executors.js";
import { outputEnvName } from "../spec/names.js";
import type { StepSpec } from "../spec/schema.js";
import { inputPath, type ResolvedInput } from "./inputs.js";
import { renderStep, type Rendered, type ScopePaths, type StepScope } from "./scope.js";

export interface AttemptMaterial {
  inputs: Record<string, ResolvedInput>;
  refs: Record<string, ResolvedInput>;
  /** The API URL and the run's token for steps (EngineDeps.stepApi). */
  api: { url: string | null; token: string | null };
  trackingRunId: string | null;
  secretEnv: Record<string, string>;
}

export function attemptEnv(
  scope: StepScope,
  attempt: number,
  workdir: string,
  m: AttemptMaterial,
): { paths: ScopePaths; rendered: Rendered; env: Record<string, string> } {
  const { run, inst, spec } = scope;
  const paths: ScopePaths = {
    inputs: Object.fromEntries(Object.entries(m.inputs).map(([k, v]) => [k, inputPath(workdir, v)])),
    refs: Object.fromEntries(Object.entries(m.refs).map(([k, v]) => [k, inputPath(workdir, v)])),
    outputs: Object.fromEntries(
      Object.entries(spec.outputs ?? {}).map(([k]) => [k, `${workdir}/_tandem/outputs/${k}`]),
    ),
  };
  const rendered = renderStep({ ...scope, paths });
  const env: Record<string, string> = {
    ...rendered.env,
    TANDEM_RUN_ID: run.id,
    TANDEM_STEP_RUN_ID: inst.id,
    TANDEM_PROJECT: run.project,
    TANDEM_PIPELINE: run.pipeline,
    TANDEM_STEP: inst.name,
    TANDEM_ATTEMPT: String(attempt),
    TANDEM_WORKDIR: workdir,
  };
  if (run.workspace) env.TANDEM_WORKSPACE = run.workspace;
  for (const [k, p] of Object.entries(paths.outputs)) env[outputEnvName(k)] = p;
  for (const [k, p] of Object.entries(paths.inputs)) env[`TANDEM_INPUT_${k.toUpperCase()}`] = p;
  if (m.api.url) {
    env.TANDEM_URL = m.api.url;
    env.MLFLOW_TRACKING_URI = m.api.url;
  }
  if (m.api.token) {
    env.TANDEM_TOKEN = m.api.token;
    env.MLFLOW_TRACKING_TOKEN = m.api.token;
  }
  if (m.trackingRunId) env.MLFLOW_RUN_ID = m.trackingRunId;
  Object.assign(env, m.secretEnv);
  return { paths, rendered, env };
}

/** Which attempt of which step a job is, where it runs and with what resources. */
export function jobPlace(
  scope: StepScope,
  attempt: number,
  workdir: string,
  execution: StepExecution,
): Pick<
  StepJob,
  | "runId"
  | "stepId"
  | "attempt"
  | "project"
  | "pipeline"
  | "stepName"
  | "execution"
  | "resources"
  | "workdir"
  | "workspace"
> {
  const { run, inst, spec } = scope;
  return {
    runId: run.id,
    stepId: inst.id,
    attempt,
    project: run.project,
    pipeline: run.pipeline,
    stepName: inst.name,
    execution,
    resources: { cpu: spec.resources?.cpu, memory: spec.resources?.memory, gpu: spec.resources?.gpu },
    workdir,
    workspace: run.workspace,
  };
}

/** The step's declared outputs, where the executor collects them. */
export function jobOutputs(spec: StepSpec): JobOutput[] {
  return Object.entries(spec.outputs ?? {}).map(([name, kind]) => ({ name, kind, path: `_tandem/outputs/${name}` }));
}
