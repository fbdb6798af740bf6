/**
 * `tandem runs show RUN [--step S] [--cache]`: a run and its steps; one step's resolved references,
 * environment and inputs; or why that step was (not) served from the cache, part by part.
 */
import type { TandemApi } from "./api.js";
import { projectPath, UsageError } from "./context.js";
import { formatTable, printJson, printTable } from "./output.js";
import { driverGone, resumeHint, summarize, type RunWire, type StepWire } from "./pipelines-progress.js";

interface ReferenceWire {
  field: string;
  kind: string;
  ref: string;
  resolved: string | null;
  digest: string | null;
}

interface StepDetailWire extends StepWire {
  /** local, slurm or kubernetes (null before the step starts) */
  executor: string | null;
  command: string | null;
  cache_key: string | null;
  references: ReferenceWire[];
  cache: { decision: string; reason: string | null; source: string | null } | null;
  environment: {
    digest: string;
    lockfiles: Record<string, string>;
    interpreters: Record<string, string | null>;
    image: string | null;
    image_id: string | null;
  } | null;
  inputs: Record<string, { sha256: string; kind: string; source: string }>;
  outputs: Record<string, string>;
}

interface ExplanationWire {
  step: string;
  key: string | null;
  decision: string | null;
  summary: string;
  parts: Array<{
    name: string;
    digest: string;
    value: string;
    change: string | null;
    before: { digest: string; value: string } | null;
  }>;
  compared_with: { run_id: string; step_run_id: string; key: string | null; status: string } | null;
}

const short = (digest: string | null | undefined) => (digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "-");

/** `dataset rows@latest → rows@3 (sha256:1a2b3c4d5e6f)` */
export function describeReference(r: ReferenceWire): string {
  return `${r.field} ${r.ref} → ${r.resolved ?? "none"}${r.digest ? ` (sha256:${short(r.digest)})` : ""}`;
}

/** `commit 1a2b3c4d5e6f, dirty: 2 changed paths (a.js, b.py)` or `commit: none (not a git checkout)`. */
export function describeCode(run: RunWire): string {
  const commit = run.commit as string | null | undefined;
  if (commit === undefined) return "";
  if (commit === null) return "commit: none (not run from a git checkout)";
  const changed = (run.changed_paths as string[] | undefined) ?? [];
  const dirty = run.dirty
    ? `, dirty: ${changed.length} changed path${changed.length === 1 ? "" : "s"}${changed.length ? ` (${changed.slice(0, 8).join(", ")}${changed.length > 8 ? ", …" : ""})` : ""}`
    : ", clean";
  return `commit ${commit}${dirty}`;
}

function printStep(s: StepDetailWire): void {
  const lines = [`step ${s.name}: ${s.status}${s.cached ? " (served from cache)" : ""}`];
  if (s.error) lines.push(`error: ${s.error}`);
  if (s.cache_key)
    lines.push(
      `cache key: ${s.cache_key}${s.cache ? ` (${s.cache.decision}${s.cache.reason ? `: ${s.cache.reason}` : ""})` : ""}`,
    );
  if (s.command) lines.push(`command: ${s.command}`);
  if (s.references.length) lines.push("references:", ...s.references.map((r) => `  ${describeReference(r)}`));
  const inputs = Object.entries(s.inputs);
  if (inputs.length) lines.push("inputs:", ...inputs.map(([k, v]) => `  ${k} ${v.source} (sha256:${short(v.sha256)})`));
  const outputs = Object.entries(s.outputs);
  if (outputs.length) lines.push("outputs:", ...outputs.map(([k, v]) => `  ${k} sha256:${short(v)}`));
  const e = s.environment;
  if (e) {
    lines.push(`environment sha256:${short(e.digest)}`);
    const locks = Object.entries(e.lockfiles);
    lines.push(`  lockfiles: ${locks.length ? locks.map(([k, v]) => `${k} (${short(v)})`).join(", ") : "none"}`);
    for (const [k, v] of Object.entries(e.interpreters)) lines.push(`  ${k}: ${v ?? "absent"}`);
    if (e.image)
      lines.push(
        `  image: ${e.image}${e.image_id ? ` (ran ${e.image_id})` : s.executor ? ` (image id: not reported by ${s.executor})` : ""}`,
      );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

function printExplanation(e: ExplanationWire): void {
  const head = [`${e.step}: ${e.summary}`];
  if (e.key) head.push(`key ${e.key}`);
  if (e.compared_with)
    head.push(
      `compared with run ${e.compared_with.run_id} (step run ${e.compared_with.step_run_id}, ${e.compared_with.status})`,
    );
  const rows = e.parts.map((p) => ({
    part: p.name,
    digest: p.change === "removed" ? "-" : short(p.digest),
    change: p.change ?? "",
    value: p.change === "removed" ? `(was ${p.before!.value})` : p.value,
    before: p.change === "changed" ? `${p.before!.value} (${short(p.before!.digest)})` : "",
  }));
  const columns = ["part", "digest", ...(e.compared_with ? ["change"] : []), "value"];
  if (rows.some((r) => r.before)) columns.push("before");
  process.stdout.write(`${head.join("\n")}\n${rows.length ? `${formatTable(rows, columns)}\n` : ""}`);
}

export async function showRun(
  api: TandemApi,
  project: string,
  id: string,
  opts: { step?: string; cache?: boolean; json?: boolean },
): Promise<void> {
  const base = projectPath(project, `/pipeline-runs/${encodeURIComponent(id)}`);
  if (opts.cache) {
    if (!opts.step) throw new UsageError("--cache explains one step: add --step NAME");
    const e = await api.get<ExplanationWire>(`${base}/steps/${encodeURIComponent(opts.step)}/cache`);
    return opts.json ? printJson(e) : printExplanation(e);
  }
  const run = await api.get<RunWire>(base);
  const steps = (run.steps ?? []) as StepDetailWire[];
  if (opts.step) {
    const s = steps.find((x) => x.name === opts.step || x.id === opts.step);
    if (!s) throw new UsageError(`run ${id} has no step ${opts.step} (steps: ${steps.map((x) => x.name).join(", ")})`);
    return opts.json ? printJson(s) : printStep(s);
  }
  if (opts.json) return printJson(run);
  const code = describeCode(run);
  const orphan = driverGone(run) ? `no driver: the process driving it stopped; ${resumeHint(run.id)}\n` : "";
  process.stdout.write(`${summarize(run)}\n${orphan}${code ? `${code}\n` : ""}`);
  printTable(
    steps.map((s) => ({ ...s, metrics: Object.keys(s.metrics).length ? s.metrics : null })),
    ["name", "status", "cached", "attempt", "exit_code", "metrics", "error"],
  );
  const refs = steps.flatMap((s) => s.references.map((r) => `  ${s.name}: ${describeReference(r)}`));
  if (refs.length) process.stdout.write(`resolved references:\n${refs.join("\n")}\n`);
}
