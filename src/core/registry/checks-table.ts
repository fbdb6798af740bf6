/** A decision record's checks as a plain table, for step logs and the CLI. */

function cell(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, "");
  return String(v);
}

export interface CheckRow {
  policy: string;
  check: string;
  value: number | string | null;
  threshold: number | string | null;
  outcome: string;
  detail: string;
}

export function formatChecks(checks: CheckRow[]): string {
  const header = ["POLICY", "CHECK", "VALUE", "THRESHOLD", "OUTCOME", "DETAIL"];
  const rows = checks.map((c) => [
    c.policy,
    c.check,
    cell(c.value),
    cell(c.threshold),
    c.outcome.toUpperCase(),
    c.detail,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join("  "))
    .join("\n");
}

/** What a check read, as the decision record keeps it (the evidence wire, snake_case). */
export interface EvidenceRow {
  kind: string;
  id: string;
  source: string | null;
  dataset: string | null;
  pipeline_run_id: string | null;
  step: string | null;
  by: string | null;
  used: boolean;
  note: string;
}

export interface DecisionCheckRow extends CheckRow {
  evidence?: EvidenceRow[];
  excluded?: Array<{ user: string; reason: string }>;
  waiver?: DecisionCheckRow[];
}

export interface DecisionRow {
  target: { kind: string; name: string };
  action: string;
  scope: string;
  governing: Array<{ policy: string; reason: string }>;
  verdict: string;
  checks: DecisionCheckRow[];
  evaluated_by: string;
}

function evidenceLine(e: EvidenceRow): string {
  const origin =
    e.source === "pipeline"
      ? `pipeline run ${e.pipeline_run_id ?? "?"} step ${e.step ?? "?"}`
      : e.source === "manual"
        ? `by ${e.by ?? "?"} (manual)`
        : (e.by ?? "");
  const what = [e.kind, e.id, e.dataset ? `on ${e.dataset}` : "", origin].filter(Boolean).join(" ");
  return `${e.used ? "used" : "set aside"}: ${what}${e.note ? ` (${e.note})` : ""}`;
}

/**
 * A whole decision record as text: what moved and why these policies governed it, the checks, and
 * under them the evidence each check read or set aside and who could not approve (four-eyes).
 */
export function formatDecision(d: DecisionRow, when: string): string {
  const lines = [
    `${when}  ${d.action} ${d.target.kind} ${d.target.name}: ${d.verdict.toUpperCase()} (by ${d.evaluated_by})`,
  ];
  if (d.scope) lines.push(`  changes: ${d.scope}`);
  for (const g of d.governing) lines.push(`  governed by ${g.policy}: ${g.reason}`);
  lines.push(formatChecks(d.checks));
  const notes = (c: DecisionCheckRow, prefix: string) => {
    for (const e of c.evidence ?? []) lines.push(`  ${prefix}${c.policy} ${c.check}: ${evidenceLine(e)}`);
    for (const x of c.excluded ?? [])
      lines.push(`  ${prefix}${c.policy} ${c.check}: ${x.user} may not approve: ${x.reason}`);
    for (const w of c.waiver ?? []) {
      lines.push(`  ${prefix}${c.policy} ${c.check}: unless ${w.check}: ${w.outcome.toUpperCase()} (${w.detail})`);
      notes(w, `${prefix}  `);
    }
  };
  for (const c of d.checks) notes(c, "");
  return lines.join("\n");
}
