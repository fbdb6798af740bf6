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
