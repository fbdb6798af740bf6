/**
 * `tandem validate`'s checks of where steps run: the deprecated `resources.image`, a kubernetes step
 * without an image, resources a local step ignores, image tags without a digest, and an executor
 * this server cannot use (not configured, or its nodes could not reach the server or the files).
 */
import { isPinnedImage } from "./engine/environment.js";
import type { ExecutorCatalog } from "./ports.js";
import type { SpecIssue, SpecLocator, SpecPath } from "./spec/positions.js";
import { stepExecution } from "./spec/executors.js";
import type { PipelineSpec, StepSpec } from "./spec/schema.js";

export interface ExecutionFindings {
  issues: SpecIssue[];
  warnings: SpecIssue[];
}

export async function checkExecution(
  at: SpecLocator,
  base: SpecPath,
  step: StepSpec,
  pipeline: PipelineSpec,
  catalog: ExecutorCatalog | undefined,
  out: ExecutionFindings,
): Promise<void> {
  const exec = stepExecution(step, pipeline);
  const executor = exec.executor ?? catalog?.defaultExecutor ?? "local";
  const executorAt: SpecPath =
    step.executor !== undefined
      ? [...base, "executor"]
      : pipeline.executor !== undefined
        ? base.slice(0, 2).concat("executor")
        : base;
  if (step.resources?.image !== undefined)
    out.warnings.push(
      at.issue(
        [...base, "resources", "image"],
        step.image !== undefined
          ? "resources.image is deprecated and ignored here: the step's image: wins"
          : "resources.image is deprecated: write image: on the step (or its pipeline)",
      ),
    );
  if (exec.image && !isPinnedImage(exec.image)) {
    const path: SpecPath =
      step.image !== undefined
        ? [...base, "image"]
        : step.resources?.image !== undefined
          ? [...base, "resources", "image"]
          : base.slice(0, 2).concat("image");
    out.warnings.push(
      at.issue(
        path,
        `image ${exec.image} is a tag, not a digest: pin it (name@sha256:…) so the environment cannot change under the same cache key`,
      ),
    );
  }
  if (executor === "kubernetes" && !exec.image)
    out.issues.push(at.issue(executorAt, "a kubernetes step needs an image: (on the step or its pipeline)"));
  const { cpu, memory, gpu } = step.resources ?? {};
  if (executor === "local" && (cpu !== undefined || memory !== undefined || gpu !== undefined))
    out.warnings.push(
      at.issue(
        [...base, "resources"],
        "the local executor does not enforce resources: the step runs with whatever this machine has (use executor: slurm or kubernetes)",
      ),
    );
  if (!catalog || executor === "local") return;
  const problem = await catalog.problem(executor);
  if (problem) out.warnings.push(at.issue(executorAt, `executor ${executor} cannot run here: ${problem}`));
}
