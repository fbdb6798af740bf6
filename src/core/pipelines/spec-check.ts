/**
 * What `tandem validate` checks beyond the spec's own text, against the project folder and the
 * stores (each finding names file:line):
 * - errors: a project file a built-in step's `with:` names does not exist;
 * - warnings: a `run:` script names a project path that neither an input nor `cache: { files }`
 *   covers (editing it would not rerun the step); a dataset, model, alias or endpoint that does not
 *   exist yet — unless a step the reader depends on writes it (the retrain's `export` creating
 *   `flights-traffic`); a container image given by tag rather than `@sha256:` digest.
 */
import { InvalidInputError, NotFoundError } from "../errors.js";
import type { WithReference } from "./builtins/contract.js";
import { findBuiltin } from "./builtins/index.js";
import { isModelRef, staticWith } from "./builtins/references.js";
import { checkExecution } from "./spec-check-executors.js";
import type { ExecutorCatalog, ReferenceResolver, WorkspaceAccess } from "./ports.js";
import type { SpecIssue, SpecLocator, SpecPath } from "./spec/positions.js";
import { stepDependencies } from "./spec/references.js";
import type { PipelineSpec, StepSpec, TandemSpec } from "./spec/schema.js";
import { isUnder, scriptPaths } from "./spec/script-paths.js";

export interface ProjectCheckDeps {
  workspace: WorkspaceAccess;
  references?: ReferenceResolver;
  /** The executors this server has, for "executor slurm cannot run here" warnings. */
  executors?: ExecutorCatalog;
}

export interface ProjectFindings {
  issues: SpecIssue[];
  warnings: SpecIssue[];
}

interface Context {
  project: string;
  workspace: string | null;
  at: SpecLocator;
  deps: ProjectCheckDeps;
  out: ProjectFindings;
}

/** Every step a step depends on, directly or not. */
function ancestors(pipeline: PipelineSpec, name: string): Set<string> {
  const seen = new Set<string>();
  const visit = (n: string) => {
    for (const d of stepDependencies(pipeline.steps[n] ?? {})) {
      if (seen.has(d) || !pipeline.steps[d]) continue;
      seen.add(d);
      visit(d);
    }
  };
  visit(name);
  return seen;
}

/** `dataset:rows`, `model:m` for everything the builtins of `steps` create. */
function writtenBy(pipeline: PipelineSpec, steps: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const name of steps) {
    const step = pipeline.steps[name]!;
    const builtin = step.uses ? findBuiltin(step.uses.slice("tandem/".length)) : undefined;
    for (const w of builtin?.writes?.(staticWith(step.with)) ?? [])
      out.add(
        `${w.kind}:${w.kind === "model" ? w.ref.split("@")[0] : w.ref.replace(/^dataset:\/\//, "").split("@")[0]}`,
      );
  }
  return out;
}

/**
 * A `run:` step that names its files (`cache: { files }`) is keyed on those alone, not on the whole
 * project folder (keying.ts): a project path its script names that neither they nor an input cover
 * would change without rerunning it.
 */
async function runPaths(c: Context, base: SpecPath, stepName: string, step: StepSpec): Promise<void> {
  if (step.run === undefined || !c.workspace || typeof step.cache !== "object" || !step.cache.files.length) return;
  const inputs = Object.values(step.inputs ?? {}).filter((v) => !v.includes("${{") && !v.startsWith("dataset://"));
  const globbed = new Set<string>();
  for (const glob of step.cache.files)
    for (const f of (await c.deps.workspace.hashGlob(c.workspace, glob)).files) globbed.add(f);
  for (const word of scriptPaths(step.run)) {
    if (word.path === "tandem.lock" || word.path === step.metrics) continue;
    const kind = await c.deps.workspace.entryKind(c.workspace, word.path);
    if (!kind || inputs.some((i) => isUnder(word.path, i))) continue;
    if (kind === "file" && globbed.has(word.path)) continue;
    if (kind === "dir") {
      const inside = (await c.deps.workspace.hashGlob(c.workspace, `${word.path}/**`)).files;
      if (inside.length && inside.every((f) => globbed.has(f))) continue;
    }
    c.out.warnings.push(
      c.at.issueInString(
        [...base, "run"],
        step.run,
        word.start,
        word.end,
        `steps.${stepName}.run reads ${word.path}, which neither its inputs: nor its cache: { files } cover: editing it will not rerun the step (add it to one of them)`,
      ),
    );
  }
}

/** Whether a dataset, model or endpoint exists now; the resolver's "not found" message otherwise. */
async function missing(c: Context, kind: WithReference["kind"], ref: string): Promise<string | null> {
  const r = c.deps.references;
  if (!r) return null;
  try {
    if (kind === "dataset") await r.dataset(c.project, ref);
    else if (kind === "model") await r.model(c.project, ref);
    else if (kind === "endpoint") await r.endpoint(c.project, ref);
    return null;
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof InvalidInputError) return error.message;
    throw error;
  }
}

async function references(c: Context, spec: TandemSpec, name: string, pipeline: PipelineSpec): Promise<void> {
  for (const [stepName, step] of Object.entries(pipeline.steps)) {
    const base: SpecPath = ["pipelines", name, "steps", stepName];
    // Only a step that names something needs what its ancestors write: walking every step's
    // ancestors is quadratic (a 200-step DAG: 20 000 visits, ~70 ms of each `tandem run` at load 15).
    let written: Set<string> | null = null;
    const writtenBefore = () => (written ??= writtenBy(pipeline, ancestors(pipeline, stepName)));
    const refs: Array<WithReference & { at: SpecPath }> = [];
    for (const [k, v] of Object.entries(step.inputs ?? {}))
      if (v.startsWith("dataset://") && !v.includes("${{"))
        refs.push({ path: [k], kind: "dataset", ref: v, at: [...base, "inputs", k] });
    const builtin = step.uses ? findBuiltin(step.uses.slice("tandem/".length)) : undefined;
    for (const r of builtin?.references?.(staticWith(step.with)) ?? [])
      refs.push({ ...r, at: [...base, "with", ...r.path] });
    for (const r of refs) {
      if (r.kind === "file") {
        if (c.workspace && !(await c.deps.workspace.entryKind(c.workspace, r.ref)))
          c.out.issues.push(c.at.issue(r.at, `${r.ref} does not exist in the project folder`));
        continue;
      }
      if (r.kind === "policy") {
        if (spec.policies && !spec.policies[r.ref])
          c.out.warnings.push(
            c.at.issue(
              r.at,
              `policy ${r.ref} is not declared under policies: (${Object.keys(spec.policies).join(", ") || "none"})`,
            ),
          );
        continue;
      }
      if (r.optional) continue;
      const nameOf =
        r.kind === "model" && isModelRef(r.ref)
          ? r.ref.split("@")[0]!
          : r.ref.replace(/^dataset:\/\//, "").split("@")[0]!;
      if (writtenBefore().has(`${r.kind}:${nameOf}`)) continue;
      if (r.kind === "endpoint" && spec.endpoints?.[r.ref]) continue;
      const why = await missing(c, r.kind, r.ref);
      if (why)
        c.out.warnings.push(
          c.at.issue(
            r.at,
            `${r.kind} ${r.ref.replace(/^dataset:\/\//, "")} does not exist yet (${why}): the step will fail unless it exists when it starts`,
          ),
        );
    }
    await checkExecution(c.at, base, step, pipeline, c.deps.executors, c.out);
  }
}

export async function checkProject(
  spec: TandemSpec,
  at: SpecLocator,
  options: { project: string; workspace: string | null; deps: ProjectCheckDeps },
): Promise<ProjectFindings> {
  const c: Context = { ...options, at, out: { issues: [], warnings: [] } };
  for (const [name, pipeline] of Object.entries(spec.pipelines ?? {})) {
    for (const [stepName, step] of Object.entries(pipeline.steps))
      await runPaths(c, ["pipelines", name, "steps", stepName], stepName, step);
    await references(c, spec, name, pipeline);
  }
  return c.out;
}
