/**
 * The cache key as named parts (Nx's "hash details", Bazel's `--explain`): the step's definition, its
 * resolved command, `with:` and `env:`, each referenced param, each input's content hash, each
 * built-in reference's digest, each `cache: { files }` glob (else, for a `run:` step, the whole
 * checkout), each secret's keyed fingerprint, the executor or the built-in step's code, and the
 * environment. The key is the sha256 of the parts' names and digests, so equal parts give equal keys
 * whatever their order, and a miss can name the part that changed. What runs the step is in the key
 * as Bazel's action key holds the tool and DVC's dvc.lock the script: a run: step's project files,
 * a built-in step's Tandem code.
 */
import { createHash } from "node:crypto";
import type { CachePart, ResolvedReference, StepEnvironment } from "../model.js";
import type { Value } from "../expr/evaluate.js";
import { renderStep, referencedParams, type StepScope } from "./scope.js";

/** JSON with sorted keys, so equal definitions hash equal whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** What a part shows: short enough for a table cell. */
function shortText(text: string, max = 72): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  const one = line.trim();
  return one.length > max || text.trim().includes("\n") ? `${one.slice(0, max - 1)}…` : one;
}

export interface KeyMaterial {
  /** Input name → manifest and where it came from. */
  inputs: Record<string, { manifest: string; source: string }>;
  /** `steps.X.outputs.Y` named in run:/with:/env: → manifest. */
  refs: Record<string, string>;
  references: ResolvedReference[];
  /** `cache: { files }` glob → digest and matched files. */
  files: Record<string, { digest: string; files: string[] }>;
  environment: StepEnvironment | null;
  /**
   * A `run:` step without `cache: { files }`: the project folder's files (what its command may read
   * from the checkout); null for built-in steps and steps that name their files.
   */
  checkout: { digest: string; value: string } | null;
  /** Secret name → a keyed fingerprint of its value (an HMAC under the server's secret key, never the value). */
  secrets: Record<string, string>;
  /** A `run:` step's executor (local, slurm, kubernetes); null for a built-in step (it runs in the server). */
  executor: string | null;
  /** A built-in step's code: Tandem's version and build (`tandem 0.1.0, code 1a2b…`); null for `run:` steps. */
  builtin: { uses: string; code: string } | null;
}

export interface StepKey {
  key: string;
  parts: CachePart[];
  /** The command with paths as placeholders (what tandem.lock records). */
  command: string | null;
}

/** The value-of-a-reference text shown for a `with:` field: `rows@latest → rows@3`. */
export function describeReference(r: ResolvedReference): string {
  return `${r.ref} → ${r.resolved ?? "none"}`;
}

export function stepKey(scope: StepScope, m: KeyMaterial): StepKey {
  const keyed = renderStep({ ...scope, paths: null });
  const parts: CachePart[] = [];
  const add = (name: string, material: unknown, value: string) =>
    parts.push({ name, digest: sha256(canonicalJson(material)), value });
  // The fields not covered by a part of their own (outputs, metrics, timeout, matrix…).
  const { run: _run, with: _with, env: _env, description: _d, ...definition } = scope.spec;
  add("definition", definition, shortText(canonicalJson(definition)));
  if (keyed.script !== null) add("command", keyed.script, shortText(keyed.script));
  if (keyed.with !== null) add("with", keyed.with, shortText(canonicalJson(keyed.with)));
  if (Object.keys(keyed.env).length) add("env", keyed.env, shortText(canonicalJson(keyed.env)));
  for (const [name, value] of Object.entries(referencedParams(scope)))
    add(`param ${name}`, value as Value, JSON.stringify(value));
  for (const [name, input] of Object.entries(m.inputs))
    parts.push({ name: `input ${name}`, digest: input.manifest, value: input.source });
  for (const [text, manifest] of Object.entries(m.refs))
    parts.push({ name: `output ${text}`, digest: manifest, value: text });
  for (const r of m.references)
    parts.push({
      name: `with.${r.field}`,
      digest: r.digest?.replace(/^sha256:/, "") ?? sha256("none"),
      value: describeReference(r),
    });
  for (const [glob, f] of Object.entries(m.files))
    parts.push({
      name: `files ${glob}`,
      digest: f.digest,
      value: `${f.files.length} file${f.files.length === 1 ? "" : "s"}`,
    });
  if (m.checkout) parts.push({ name: "checkout", digest: m.checkout.digest, value: m.checkout.value });
  for (const [name, fingerprint] of Object.entries(m.secrets))
    parts.push({ name: `secret ${name}`, digest: fingerprint, value: `value ${fingerprint.slice(0, 12)}` });
  if (m.executor !== null) add("executor", m.executor, m.executor);
  if (m.builtin) add(`builtin ${m.builtin.uses}`, m.builtin, m.builtin.code);
  const env = m.environment;
  if (env) {
    const names = Object.keys(env.lockfiles);
    add("environment lockfiles", env.lockfiles, names.length ? names.join(", ") : "none");
    for (const [name, version] of Object.entries(env.interpreters))
      add(`environment ${name}`, version, version ?? "absent");
    if (env.image !== null) add("environment image", env.image, env.image);
  }
  const key = sha256(canonicalJson({ v: 3, parts: Object.fromEntries(parts.map((p) => [p.name, p.digest])) }));
  return { key, parts, command: keyed.script };
}
