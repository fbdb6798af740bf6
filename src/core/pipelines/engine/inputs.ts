/**
 * Resolving a step's inputs to content hashes before it runs: outputs of earlier steps, dataset
 * versions (through the Data area), and paths in the project folder (hashed, so editing a file the
 * step reads invalidates its cache).
 */
import { getManifest } from "../../artifacts/manifest.js";
import { InvalidInputError, NotFoundError } from "../../errors.js";
import { stringify } from "../expr/evaluate.js";
import { parseTemplate } from "../expr/parse.js";
import type { InputRecord } from "../model.js";
import { stepReferences } from "../spec/references.js";
import type { EngineDeps } from "./deps.js";
import { resolverFor, stepTarget, whereInStep, type StepScope } from "./scope.js";
import { renderPlain } from "../expr/evaluate.js";

export interface ResolvedInput extends InputRecord {
  /** Where it goes, relative to the step directory. */
  relPath: string;
  /** For a file: its name inside relPath. */
  fileName: string | null;
}

/** A one-file artifact's file name (materialised inputs point at the file itself); null for a folder. */
export async function fileNameOf(deps: EngineDeps, manifest: string, kind: "file" | "dir"): Promise<string | null> {
  if (kind !== "file") return null;
  const m = await getManifest(deps.artifacts, manifest);
  if (m.entries.length !== 1)
    throw new InvalidInputError(`input ${manifest} should hold one file, holds ${m.entries.length}`);
  return m.entries[0]!.path;
}

function outputKind(scope: StepScope, step: string, output: string): "file" | "dir" {
  return scope.pipeline.steps[step]?.outputs?.[output] ?? "dir";
}

export async function resolveInputs(
  deps: EngineDeps,
  scope: StepScope,
): Promise<{ inputs: Record<string, ResolvedInput>; refs: Record<string, ResolvedInput> }> {
  const inputs: Record<string, ResolvedInput> = {};
  const resolve = resolverFor({ ...scope, paths: null });
  for (const [name, value] of Object.entries(scope.spec.inputs ?? {})) {
    const relPath = `_tandem/inputs/${name}`;
    const parts = parseTemplate(value);
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only?.kind === "expr" && only.expr.kind === "ref" && only.expr.root === "steps") {
      const { inst, kind, field } = stepTarget(scope, only.expr);
      const manifest = kind === "outputs" && field ? inst.outputs[field] : undefined;
      if (!manifest)
        throw new InvalidInputError(
          `input ${name}: step ${inst.name} produced no output ${field ?? ""} (status ${inst.status})`,
        );
      const k = outputKind(scope, inst.step, field!);
      inputs[name] = {
        manifest,
        kind: k,
        source: only.expr.text,
        relPath,
        fileName: await fileNameOf(deps, manifest, k),
      };
      continue;
    }
    const text = stringify(renderPlain(value, resolve));
    if (text.startsWith("dataset://")) {
      if (!deps.datasets)
        throw new InvalidInputError(`input ${name}: ${text} needs the Data area, which this server does not have`);
      const d = await deps.datasets.resolve(scope.run.project, text).catch((error: unknown) => {
        // A dataset that does not exist when the step starts fails it, naming where tandem.yaml asks for it.
        if (error instanceof NotFoundError)
          throw new InvalidInputError(`${whereInStep(scope, ["inputs", name])}: ${text}: ${error.message}`);
        throw error;
      });
      inputs[name] = {
        manifest: d.manifest,
        kind: d.kind,
        source: `${text} (version ${d.version})`,
        relPath,
        fileName: await fileNameOf(deps, d.manifest, d.kind),
      };
      continue;
    }
    if (!scope.run.workspace)
      throw new InvalidInputError(`input ${name}: path "${text}" needs a workspace, and this run has none`);
    const h = await deps.workspace.hashPath(scope.run.workspace, text);
    inputs[name] = {
      manifest: h.manifest,
      kind: h.kind,
      source: text,
      relPath,
      fileName: await fileNameOf(deps, h.manifest, h.kind),
    };
  }
  // Outputs of other steps named directly in run:, with: or env: are materialised too.
  const refs: Record<string, ResolvedInput> = {};
  let n = 0;
  for (const f of stepReferences(scope.spec).refs) {
    if (f.place === "inputs" || f.place === "if" || f.ref.root !== "steps" || refs[f.ref.text]) continue;
    const { inst, kind, field } = stepTarget(scope, f.ref);
    if (kind !== "outputs" || !field) continue;
    const manifest = inst.outputs[field];
    if (!manifest) throw new InvalidInputError(`\${{ ${f.ref.text} }}: step ${inst.name} produced no output ${field}`);
    const k = outputKind(scope, inst.step, field);
    refs[f.ref.text] = {
      manifest,
      kind: k,
      source: f.ref.text,
      relPath: `_tandem/refs/${n++}`,
      fileName: await fileNameOf(deps, manifest, k),
    };
  }
  return { inputs, refs };
}

/** Absolute path of a materialised input: the directory, or the one file inside it. */
export function inputPath(workdir: string, input: ResolvedInput): string {
  return input.fileName ? `${workdir}/${input.relPath}/${input.fileName}` : `${workdir}/${input.relPath}`;
}
