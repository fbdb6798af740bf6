/**
 * Checks a schema-valid spec for what a schema cannot say: `needs:` naming no step, cycles,
 * expressions referring to nothing, duplicate outputs, cron and time zone syntax, unknown built-ins.
 */
import { Cron } from "croner";
import { parseCondition } from "../expr/evaluate.js";
import type { SpecIssue, SpecLocator, SpecPath } from "./positions.js";
import { needsOf, referencedStep, stepDependencies, stepReferences, type FoundRef } from "./references.js";
import type { PipelineSpec, StepSpec, TandemSpec } from "./schema.js";
import type { WithReference } from "../builtins/contract.js";
import { staticWith } from "../builtins/references.js";

export interface ValidateOptions {
  /** Names of built-in steps (`tandem/<name>`); when given, `uses:` must name one. */
  builtins?: readonly string[];
  /** What a builtin's `with:` refers to (see builtins/contract.ts); its project files must stay inside the project. */
  references?: (uses: string, w: Record<string, unknown>) => WithReference[];
}

/** A project path that leaves the project folder (absolute, or through `..`). */
export function leavesProject(path: string): boolean {
  return path.startsWith("/") || path.split(/[\\/]/).includes("..");
}

const list = (names: Iterable<string>) => {
  const a = [...names];
  return a.length ? a.join(", ") : "none";
};

/** Why a reference names nothing, or null when it is fine. */
function checkRef(found: FoundRef, stepName: string, step: StepSpec, pipeline: PipelineSpec): string | null {
  const { ref, place } = found;
  const first = ref.path[0];
  const name = first?.kind === "prop" ? first.name : undefined;
  const what = `\${{ ${ref.text} }}`;
  const one = (ctx: string, known: string[]) => {
    if (!name || ref.path.length !== 1) return `${what}: expected ${ctx}.<name>`;
    if (!known.includes(name)) return `${what} refers to nothing: ${ctx} declared here: ${list(known)}`;
    return null;
  };
  switch (ref.root) {
    case "params":
      return one("params", [...new Set([...Object.keys(pipeline.params ?? {}), ...Object.keys(step.matrix ?? {})])]);
    case "matrix":
      return one("matrix", Object.keys(step.matrix ?? {}));
    case "env":
      return one("env", [...new Set([...Object.keys(pipeline.env ?? {}), ...Object.keys(step.env ?? {})])]);
    case "inputs":
      if (place === "inputs") return `${what}: an input cannot refer to inputs`;
      return one("inputs", Object.keys(step.inputs ?? {}));
    case "outputs":
      if (place === "inputs" || place === "if") return `${what}: outputs are only known inside run:, with: and env:`;
      return one("outputs", Object.keys(step.outputs ?? {}));
    case "trigger":
      return ref.path.length === 1 && first?.kind === "prop" ? null : `${what}: expected trigger.<field>`;
    case "steps": {
      const target = referencedStep(ref);
      if (!target) return `${what}: expected steps.<step>.outputs.<name>`;
      const other = pipeline.steps[target];
      if (!other) return `${what} refers to nothing: no step "${target}" (steps: ${list(Object.keys(pipeline.steps))})`;
      if (target === stepName) return `${what}: a step cannot refer to itself`;
      let rest = ref.path.slice(1);
      const call = rest[0];
      let picked = false;
      if (call?.kind === "call") {
        if (call.name !== "best")
          return `${what}: unknown function ${call.name}() (the one function is best('metric'[, 'max'|'min']))`;
        const [metric, direction, ...extra] = call.args;
        if (
          typeof metric !== "string" ||
          extra.length > 0 ||
          (direction !== undefined && direction !== "max" && direction !== "min")
        ) {
          return `${what}: expected best('metric') or best('metric', 'min')`;
        }
        if (!other.metrics)
          return `${what}: step "${target}" declares no metrics: file, so best() has nothing to compare`;
        picked = true;
        rest = rest.slice(1);
      }
      const [kind, field, ...tail] = rest;
      if (kind?.kind !== "prop" || tail.length > 0)
        return `${what}: expected steps.${target}.outputs.<name>, .metrics.<name> or .status`;
      if (kind.name === "status" && field === undefined) {
        return place === "if" ? null : `${what}: a step's status is only known inside if:`;
      }
      if (field?.kind !== "prop") return `${what}: expected steps.${target}.outputs.<name>, .metrics.<name> or .status`;
      if (kind.name === "metrics") {
        // Built-in steps (uses:) return their metrics without a file.
        return other.metrics || other.uses ? null : `${what}: step "${target}" declares no metrics: file`;
      }
      if (kind.name !== "outputs")
        return `${what}: expected steps.${target}.outputs.<name>, .metrics.<name> or .status`;
      const outs = Object.keys(other.outputs ?? {});
      if (!outs.includes(field.name))
        return `${what} refers to nothing: step "${target}" declares outputs: ${list(outs)}`;
      if (other.matrix && !picked) {
        return `${what}: step "${target}" fans out over a matrix; pick one run with steps.${target}.best('metric').outputs.${field.name}`;
      }
      if (place === "if") return `${what}: outputs are paths, not known inside if:; use .metrics or .status`;
      return null;
    }
    default:
      return `${what} refers to nothing: "${ref.root}" is not a context (params, inputs, outputs, matrix, env, steps, trigger)`;
  }
}

/** The steps of a cycle, in order, or null. */
function findCycle(steps: Record<string, StepSpec>): string[] | null {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === "done") return null;
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of stepDependencies(steps[name]!)) {
      if (!steps[dep]) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, "done");
    return null;
  };
  for (const name of Object.keys(steps)) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return null;
}

function checkInputValue(value: string): string | null {
  if (value.includes("${{") || value.startsWith("dataset://")) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
    return `unsupported input "${value}": expected \${{ steps.X.outputs.Y }}, dataset://name@version or a path in the project`;
  if (leavesProject(value)) return `input path "${value}" must stay inside the project folder`;
  return null;
}

function validatePipeline(
  name: string,
  p: PipelineSpec,
  at: SpecLocator,
  options: ValidateOptions,
  out: SpecIssue[],
): void {
  const base: SpecPath = ["pipelines", name];
  for (const [i, t] of (p.triggers ?? []).entries()) {
    if (t.schedule !== undefined) {
      try {
        new Cron(t.schedule, { paused: true, timezone: t.timezone ?? "UTC" });
      } catch (error) {
        out.push(
          at.issue([...base, "triggers", i, "schedule"], `not a valid cron expression: ${(error as Error).message}`),
        );
      }
    }
    if (t.timezone !== undefined) {
      try {
        new Intl.DateTimeFormat("en", { timeZone: t.timezone });
      } catch {
        out.push(
          at.issue(
            [...base, "triggers", i, "timezone"],
            `unknown time zone "${t.timezone}" (expected an IANA name such as Europe/Paris)`,
          ),
        );
      }
    }
  }
  for (const [stepName, step] of Object.entries(p.steps)) {
    const sp: SpecPath = [...base, "steps", stepName];
    for (const [i, need] of needsOf(step).entries()) {
      const path = typeof step.needs === "string" ? [...sp, "needs"] : [...sp, "needs", i];
      if (!p.steps[need])
        out.push(at.issue(path, `needs "${need}", which names no step (steps: ${list(Object.keys(p.steps))})`));
      else if (need === stepName) out.push(at.issue(path, "a step cannot need itself"));
    }
    const seen = new Map<string, string>();
    for (const output of Object.keys(step.outputs ?? {})) {
      const key = output.toUpperCase();
      const clash = seen.get(key);
      if (clash)
        out.push(
          at.issue(
            [...sp, "outputs", output],
            `duplicate output: "${output}" and "${clash}" both map to $TANDEM_OUTPUT_${key}`,
            { key: true },
          ),
        );
      seen.set(key, output);
    }
    for (const input of Object.keys(step.inputs ?? {})) {
      if (step.outputs?.[input] !== undefined)
        out.push(
          at.issue([...sp, "outputs", input], `duplicate name: "${input}" is both an input and an output`, {
            key: true,
          }),
        );
    }
    for (const [k, v] of Object.entries(step.inputs ?? {})) {
      const problem = checkInputValue(v);
      if (problem) out.push(at.issue([...sp, "inputs", k], problem));
    }
    if (step.uses && options.references) {
      for (const r of options.references(step.uses, staticWith(step.with))) {
        if (r.kind === "file" && leavesProject(r.ref))
          out.push(at.issue([...sp, "with", ...r.path], `path "${r.ref}" must stay inside the project folder`));
      }
    }
    if (typeof step.cache === "object") {
      for (const [i, glob] of step.cache.files.entries())
        if (leavesProject(glob))
          out.push(at.issue([...sp, "cache", "files", i], `glob "${glob}" must stay inside the project folder`));
    }
    if (step.uses && options.builtins && !options.builtins.includes(step.uses.slice("tandem/".length))) {
      out.push(
        at.issue(
          [...sp, "uses"],
          `unknown built-in step "${step.uses}" (known: ${list(options.builtins.map((b) => `tandem/${b}`))})`,
        ),
      );
    }
    const { refs, errors } = stepReferences(step);
    for (const e of errors) {
      out.push(at.issueInString([...sp, ...e.path], e.value, e.offset, e.offset + 1, `bad expression: ${e.message}`));
    }
    for (const f of refs) {
      const problem = checkRef(f, stepName, step, p);
      if (problem) out.push(at.issueInString([...sp, ...f.path], f.value, f.start, f.end, problem));
    }
    if (typeof step.if === "string") {
      try {
        parseCondition(step.if);
      } catch {
        // already reported by stepReferences
      }
    }
  }
  const cycle = findCycle(p.steps);
  if (cycle) {
    out.push(at.issue([...base, "steps", cycle[0]!], `dependency cycle: ${cycle.join(" -> ")}`, { key: true }));
  }
}

export function validateSpec(spec: TandemSpec, at: SpecLocator, options: ValidateOptions = {}): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const [name, p] of Object.entries(spec.pipelines ?? {})) validatePipeline(name, p, at, options, out);
  for (const [name, m] of Object.entries(spec.monitors ?? {})) {
    if (m.endpoint && spec.endpoints && !spec.endpoints[m.endpoint]) {
      out.push(
        at.issue(
          ["monitors", name, "endpoint"],
          `endpoint "${m.endpoint}" is not declared under endpoints: (${list(Object.keys(spec.endpoints))})`,
        ),
      );
    }
  }
  return out;
}
