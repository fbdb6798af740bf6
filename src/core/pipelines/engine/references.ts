/**
 * A built-in step's `with:` references, resolved once for its cache key and then pinned: the step
 * gets `rows@3` where the spec says `rows@latest`, and a project file it names is materialised in
 * its directory from the content that was hashed, so what ran is exactly what was keyed. A
 * reference that names nothing fails the step with the spec's file:line, unless the builtin
 * declares it optional (then it is keyed, and pinned, as `none`).
 */
import { createHash } from "node:crypto";
import { InvalidInputError, NotFoundError } from "../../errors.js";
import type { WithReference } from "../builtins/contract.js";
import { findBuiltin } from "../builtins/index.js";
import { fieldName } from "../builtins/references.js";
import type { Value } from "../expr/evaluate.js";
import type { ResolvedReference } from "../model.js";
import type { SpecPath } from "../spec/positions.js";
import { canonicalJson } from "./cache-key.js";
import { getManifest } from "../../artifacts/manifest.js";
import type { EngineDeps } from "./deps.js";
import { fileNameOf, inputPath, type ResolvedInput } from "./inputs.js";
import { renderStep, whereInStep, type StepScope } from "./scope.js";

export interface PinnedReference {
  path: SpecPath;
  /** Keyed only: the builtin gets the field as written (see WithReference.keyOnly). */
  keyOnly?: boolean;
  /** Made by a file's content (WithReference.within): keyed and pinned by name, never put into `with:`. */
  inFile?: boolean;
  resolved: ResolvedReference;
  /** A project file, materialised like an input. */
  file: ResolvedInput | null;
}

const digestOf = (value: unknown) => `sha256:${createHash("sha256").update(canonicalJson(value)).digest("hex")}`;

function describeEndpoint(e: { model: string; primary: number | null; canary: number | null; shadow: number | null }) {
  const parts = [`primary ${e.primary === null ? "none" : `${e.model}@${e.primary}`}`];
  if (e.canary !== null) parts.push(`canary ${e.model}@${e.canary}`);
  if (e.shadow !== null) parts.push(`shadow ${e.model}@${e.shadow}`);
  return parts.join(", ");
}

/** A one-file manifest's text, as it was hashed (what the builtin will read). */
async function fileText(deps: EngineDeps, manifest: string): Promise<string> {
  const m = await getManifest(deps.artifacts, manifest);
  const chunks: Buffer[] = [];
  for await (const chunk of await deps.artifacts.getBlob(m.entries[0]!.sha256)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function resolveOne(
  deps: EngineDeps,
  scope: StepScope,
  r: WithReference,
  index: number,
  field = fieldName(r.path),
): Promise<PinnedReference> {
  const project = scope.run.project;
  const base = { field, kind: r.kind, ref: r.ref };
  const areas = () => {
    if (!deps.references)
      throw new InvalidInputError(`a ${r.kind} reference needs the Data, Registry and Serving areas`);
    return deps.references;
  };
  try {
    switch (r.kind) {
      case "file": {
        if (!scope.run.workspace)
          throw new InvalidInputError("a project file needs a workspace, and this run has none");
        const h = await deps.workspace.hashPath(scope.run.workspace, r.ref);
        const file: ResolvedInput = {
          manifest: h.manifest,
          kind: h.kind,
          source: r.ref,
          relPath: `_tandem/files/${index}`,
          fileName: await fileNameOf(deps, h.manifest, h.kind),
        };
        return { path: r.path, resolved: { ...base, resolved: r.ref, digest: `sha256:${h.manifest}` }, file };
      }
      case "dataset": {
        const d = await areas().dataset(project, r.ref);
        return {
          path: r.path,
          resolved: { ...base, resolved: `${d.name}@${d.version}`, digest: `sha256:${d.manifest}` },
          file: null,
        };
      }
      case "model": {
        const v = await areas().model(project, r.ref);
        return {
          path: r.path,
          resolved: { ...base, resolved: `${v.name}@${v.version}`, digest: `sha256:${v.sha256}` },
          file: null,
        };
      }
      case "endpoint": {
        const e = await areas().endpoint(project, r.ref);
        return { path: r.path, resolved: { ...base, resolved: describeEndpoint(e), digest: digestOf(e) }, file: null };
      }
      case "policy": {
        const definition = await areas().policy(project, r.ref);
        return { path: r.path, resolved: { ...base, resolved: r.ref, digest: digestOf(definition) }, file: null };
      }
    }
  } catch (error) {
    if (r.optional && error instanceof NotFoundError)
      return { path: r.path, resolved: { ...base, resolved: null, digest: null }, file: null };
    if (error instanceof NotFoundError || error instanceof InvalidInputError)
      throw new InvalidInputError(`${whereInStep(scope, ["with", ...r.path])}: ${r.kind} ${r.ref}: ${error.message}`);
    throw error;
  }
}

/** Resolves every reference the step's builtin declares (none for `run:` steps), and those its files make. */
export async function resolveReferences(deps: EngineDeps, scope: StepScope): Promise<PinnedReference[]> {
  const builtin = scope.spec.uses ? findBuiltin(scope.spec.uses.slice("tandem/".length)) : undefined;
  if (!builtin?.references) return [];
  const keyed = renderStep({ ...scope, paths: null }).with;
  const declared = builtin.references((keyed ?? {}) as Record<string, unknown>);
  const out: PinnedReference[] = [];
  for (const [i, r] of declared.entries()) {
    const pin = await resolveOne(deps, scope, r, i);
    out.push({ ...pin, ...(r.keyOnly ? { keyOnly: true } : {}) });
    if (!r.within || !pin.file) continue;
    // Read from what was hashed, so the key, the pins and the file the builtin reads agree.
    for (const nested of r.within(await fileText(deps, pin.file.manifest))) {
      const field = `${pin.resolved.field} → ${fieldName(nested.path)}`;
      const inner = await resolveOne(deps, scope, { ...nested, path: r.path }, i, field);
      out.push({ ...inner, inFile: true });
    }
  }
  return out;
}

function valueAt(v: Value, path: SpecPath): Value | undefined {
  let cur: Value | undefined = v;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, Value>)[p];
  }
  return cur;
}

function withValueAt(v: Value, path: SpecPath, next: Value): Value {
  if (path.length === 0) return next;
  const [head, ...rest] = path;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as Record<string, Value>) }) as Record<string | number, Value>;
  copy[head!] = withValueAt(copy[head!] ?? null, rest, next);
  return copy as Value;
}

/**
 * `with:` as the builtin sees it: each resolved dataset or model reference replaced by the exact
 * version (`rows@3`), each project file by its materialised path in `workdir`. Returns the pins by
 * field too (null: an optional reference that named nothing).
 */
export function pinWith(
  rendered: Value,
  pins: PinnedReference[],
  workdir: string,
): { with: Value; pinned: Record<string, string | null> } {
  let out = rendered;
  const pinned: Record<string, string | null> = {};
  for (const p of pins) {
    const field = p.resolved.field;
    if (p.resolved.resolved === null) {
      pinned[field] = null;
      continue;
    }
    const value =
      p.file !== null
        ? inputPath(workdir, p.file)
        : p.resolved.kind === "dataset" || p.resolved.kind === "model"
          ? p.resolved.resolved
          : p.resolved.ref;
    pinned[field] = p.keyOnly ? p.resolved.ref : value;
    // Only where the field holds the reference itself (compare: [champion] names `m@champion`).
    if (!p.keyOnly && !p.inFile && valueAt(out, p.path) === p.resolved.ref) out = withValueAt(out, p.path, value);
  }
  return { with: out, pinned };
}
