/** Helpers shared by the `tandem models` command files: API paths, policy outcomes as tables, flags. */
import { formatChecks, type CheckRow } from "../core/registry/checks-table.js";
import { ApiError } from "./api.js";
import { PendingError, projectPath, UsageError, VerdictError } from "./context.js";
import { printJson } from "./output.js";

/** A policy check as the API sends it: exactly the row the checks table prints. */
export type CheckWire = CheckRow;
export interface OutcomeWire {
  status: "applied" | "pending" | "refused";
  version: { ref: string };
  alias: { alias: string; version: number } | null;
  request: { id: string; target: { kind: string; name: string } } | null;
  decision: { verdict: string; checks: CheckWire[] } | null;
}
export type Json = Record<string, unknown>;

/** `name@v` → URL path of the version; a bare name means latest. */
export function versionPath(project: string, ref: string, rest = ""): string {
  const at = ref.lastIndexOf("@");
  const name = at < 0 ? ref : ref.slice(0, at);
  const v = at < 0 ? "latest" : ref.slice(at + 1);
  if (!name || !v) throw new UsageError(`expected NAME@VERSION or NAME@ALIAS, got ${JSON.stringify(ref)}`);
  return projectPath(project, `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(v)}${rest}`);
}

export function modelPath(project: string, name: string, rest = ""): string {
  return projectPath(project, `/models/${encodeURIComponent(name)}${rest}`);
}

/** Prints an outcome; throws PendingError (exit 7) when held for approval, VerdictError (exit 1) when refused. */
export function reportOutcome(o: OutcomeWire, json: boolean | undefined, alreadyPrinted = false): void {
  if (alreadyPrinted) {
    // the caller printed the whole answer
  } else if (json) printJson(o);
  else if (o.decision) process.stdout.write(`${formatChecks(o.decision.checks)}\n`);
  if (o.status === "applied") {
    // The answer of `alias set` and of `register --alias`: on stdout, once.
    if (!json && o.alias) process.stdout.write(`${o.alias.alias} → ${o.version.ref}\n`);
    return;
  }
  const target = o.request ? `${o.request.target.kind} ${o.request.target.name}` : "the alias";
  if (o.status === "pending")
    throw new PendingError(
      `policy holds ${o.version.ref} → ${target}: awaiting approval (request ${o.request?.id}); an approver runs: tandem models approve ${o.version.ref}`,
    );
  throw new VerdictError(`policy refused ${o.version.ref} → ${target}`);
}

/** A 409 POLICY_REFUSED from the API becomes the same table and exit 1 (exit 7 when held for approval). */
export async function gated<T>(json: boolean | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (
      error instanceof ApiError &&
      error.code === "POLICY_REFUSED" &&
      error.details &&
      typeof error.details === "object"
    ) {
      const d = error.details as { checks?: CheckWire[]; status?: string };
      if (json) printJson({ error: { code: error.code, message: error.message, details: error.details } });
      else if (d.checks) process.stdout.write(`${formatChecks(d.checks)}\n`);
      // Held for an approver (exit 7) is not refused (exit 1): a script waits rather than fails.
      throw d.status === "pending" ? new PendingError(error.message) : new VerdictError(error.message);
    }
    throw error;
  }
}

export function parseTags(values: string[] | undefined, flag: string): Record<string, string> {
  // No prototype: `--tag __proto__=x` is a tag like any other (in {} it vanished without a word);
  // the server then says whether it takes that key.
  const out = Object.create(null) as Record<string, string>;
  for (const v of values ?? []) {
    const i = v.indexOf("=");
    if (i <= 0) throw new UsageError(`${flag}: expected KEY=VALUE, got ${JSON.stringify(v)}`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

export function parseMetrics(values: string[] | undefined): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  for (const [k, v] of Object.entries(parseTags(values, "--metric"))) {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n))
      throw new UsageError(`--metric ${k}: expected a number, got ${JSON.stringify(v)}`);
    out[k] = n;
  }
  return out;
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];
