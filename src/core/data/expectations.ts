/**
 * Validation of a dataset version against expectations (the `--expect FILE.yaml` document and the
 * `with:` of `uses: tandem/validate`). Checks run on the version's profile, so they cost nothing
 * per row, except `unique` on columns with more than 1024 distinct values, which re-reads the
 * column to be exact.
 *
 *   file: flights.parquet            # which tabular file (default: all tabular files, merged)
 *   rows: { min: 1000, max: 5000000 }
 *   schema: { strict: true }         # no columns beyond those listed (default false)
 *   columns:
 *     delay: { kind: integer, type: numeric, not_null: true, min: -1000, max: 2000 }
 *     origin: { allowed: [ATL, ORD, LAX], max_null_share: 0.01 }
 *     id: { unique: true }
 *   drift: { against: previous, threshold: 0.1, max_drifted_share: 0.5, columns: [delay, distance] }
 */
import { z } from "zod";
import { InvalidInputError } from "../errors.js";
import { frequentValues } from "./profile/accessors.js";
import { profileDrift, type ProfileDrift } from "./profile/drift.js";
import type { ColumnProfile, TableProfile } from "./profile/model.js";
import { keyString } from "./sketches/hash.js";

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const columnExpectation = z.strictObject({
  kind: z.enum(["integer", "float", "bool", "datetime", "string", "null"]).optional(),
  type: z.enum(["numeric", "categorical", "text", "datetime"]).optional(),
  not_null: z.boolean().optional(),
  max_null_share: z.number().min(0).max(1).optional(),
  /** Numbers, or ISO-8601 text for datetime columns. */
  min: z.union([z.number(), z.string()]).optional(),
  max: z.union([z.number(), z.string()]).optional(),
  allowed: z.array(scalar).optional(),
  unique: z.boolean().optional(),
});

export const expectationsSchema = z.strictObject({
  file: z.string().optional(),
  rows: z.strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }).optional(),
  schema: z.strictObject({ strict: z.boolean().optional() }).optional(),
  columns: z.record(z.string(), columnExpectation).optional(),
  drift: z
    .strictObject({
      /** `previous` (the version before this one) or a version reference such as `flights@3`. */
      against: z.string().default("previous"),
      threshold: z.number().positive().optional(),
      max_drifted_share: z.number().min(0).max(1).optional(),
      columns: z.array(z.string()).optional(),
    })
    .optional(),
});

export type Expectations = z.infer<typeof expectationsSchema>;

export interface CheckResult {
  check: string;
  column: string | null;
  expected: string;
  found: string;
  ok: boolean;
}

export interface ValidationReport {
  ok: boolean;
  dataset: string;
  file: string | null;
  checks: CheckResult[];
  drift: (ProfileDrift & { against: string }) | null;
}

export function parseExpectations(value: unknown): Expectations {
  const result = expectationsSchema.safeParse(value ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InvalidInputError(`expectations: ${issue.path.join(".") || "(top)"}: ${issue.message}`, {
      issues: result.error.issues,
    });
  }
  return result.data;
}

function bound(value: number | string, column: ColumnProfile, field: string): number {
  if (typeof value === "number") return value;
  const t = Date.parse(value);
  if (column.kind !== "datetime" || Number.isNaN(t)) {
    throw new InvalidInputError(
      `expectations: columns.${column.name}.${field}: ${JSON.stringify(value)} is not a number (text bounds are for datetime columns, as ISO-8601)`,
    );
  }
  return t;
}

const show = (x: number | null, column?: ColumnProfile): string =>
  x === null
    ? "-"
    : column?.kind === "datetime"
      ? new Date(x).toISOString()
      : String(Number.isInteger(x) ? x : Number(x.toPrecision(6)));

export interface ValidationInput {
  dataset: string;
  file: string | null;
  profile: TableProfile;
  expectations: Expectations;
  /** The profile to test drift against (null: none, e.g. the first version). */
  reference: { ref: string; profile: TableProfile } | null;
  /** Exact duplicate count of a column, for `unique` beyond the sketch's exact range. */
  countDuplicates(column: string): Promise<number>;
}

export async function validateProfile(input: ValidationInput): Promise<ValidationReport> {
  const { profile, expectations: ex } = input;
  const checks: CheckResult[] = [];
  const add = (check: string, column: string | null, expected: string, found: string, ok: boolean) =>
    checks.push({ check, column, expected, found, ok });

  if (ex.rows?.min !== undefined)
    add("row_count", null, `≥ ${ex.rows.min}`, String(profile.rowCount), profile.rowCount >= ex.rows.min);
  if (ex.rows?.max !== undefined)
    add("row_count", null, `≤ ${ex.rows.max}`, String(profile.rowCount), profile.rowCount <= ex.rows.max);

  const columns = new Map(profile.columns.map((c) => [c.name, c]));
  for (const [name, e] of Object.entries(ex.columns ?? {})) {
    const c = columns.get(name);
    if (!c) {
      add("schema", name, "column present", "missing", false);
      continue;
    }
    if (e.kind) add("kind", name, e.kind, c.kind, c.kind === e.kind);
    if (e.type) add("type", name, e.type, c.type, c.type === e.type);
    if (e.not_null) add("not_null", name, "0 missing", String(c.nullCount), c.nullCount === 0);
    if (e.max_null_share !== undefined) {
      const s = c.count ? c.nullCount / c.count : 0;
      add("null_share", name, `≤ ${e.max_null_share}`, show(s), s <= e.max_null_share);
    }
    if (e.min !== undefined) {
      const lo = bound(e.min, c, "min");
      add("min", name, `≥ ${show(lo, c)}`, show(c.min, c), c.min !== null && c.min >= lo);
    }
    if (e.max !== undefined) {
      const hi = bound(e.max, c, "max");
      add("max", name, `≤ ${show(hi, c)}`, show(c.max, c), c.max !== null && c.max <= hi);
    }
    if (e.allowed) {
      const allowed = new Set(e.allowed.map((v) => keyString(v)));
      const f = frequentValues(c);
      const outside = f.items.filter((i) => !allowed.has(keyString(i.value)));
      const expected = `one of ${e.allowed.length <= 8 ? e.allowed.join(", ") : `${e.allowed.length} values`}`;
      if (f.maxError > 0)
        add("allowed", name, expected, `cannot tell: more than ${c.sketches.frequent.k} distinct values`, false);
      else
        add(
          "allowed",
          name,
          expected,
          outside.length
            ? `${outside
                .slice(0, 5)
                .map((i) => `${keyString(i.value)} (${i.count})`)
                .join(", ")}${outside.length > 5 ? ", …" : ""}`
            : "all allowed",
          outside.length === 0,
        );
    }
    if (e.unique) {
      const values = c.count - c.nullCount;
      const duplicates = c.distinctExact ? values - c.distinct : await input.countDuplicates(name);
      add("unique", name, "0 duplicates", String(duplicates), duplicates === 0);
    }
  }
  if (ex.schema?.strict) {
    const listed = new Set(Object.keys(ex.columns ?? {}));
    const extra = profile.columns.filter((c) => !listed.has(c.name)).map((c) => c.name);
    add("schema", null, "no other columns", extra.length ? extra.join(", ") : "none", extra.length === 0);
  }

  let drift: ValidationReport["drift"] = null;
  if (ex.drift) {
    if (!input.reference)
      add("drift", null, `no drift against ${ex.drift.against}`, "no earlier version: skipped", true);
    else {
      const d = profileDrift(input.reference.profile, profile, {
        columns: ex.drift.columns,
        threshold: ex.drift.threshold,
        driftShare: ex.drift.max_drifted_share,
      });
      drift = { ...d, against: input.reference.ref };
      for (const col of d.columns)
        add("drift", col.column, `${col.test} < ${col.threshold}`, show(col.score), !col.drifted);
      add("drift", null, `drifted share < ${ex.drift.max_drifted_share ?? 0.5}`, show(d.driftedShare), !d.drifted);
    }
  }
  // A column's drift alone does not fail the dataset (Evidently's rule): only the share does.
  const ok = checks.every((c) => c.ok || (c.check === "drift" && c.column !== null));
  return { ok, dataset: input.dataset, file: input.file, checks, drift };
}

/** `ok`, `FAIL`, or `drift` for a column that drifted (listed for reading; only the dataset's share fails). */
export function resultLabel(c: CheckResult): string {
  if (c.ok) return "ok";
  return c.check === "drift" && c.column !== null ? "drift" : "FAIL";
}

/** Checks that make the report fail. */
export function failedChecks(report: ValidationReport): CheckResult[] {
  return report.checks.filter((c) => resultLabel(c) === "FAIL");
}

/** `valid`, or `INVALID (4 checks failed; 2 columns drifted)`: the counts of the table's FAIL and drift rows. */
export function verdictLine(report: ValidationReport): string {
  const failed = failedChecks(report).length;
  const drifted = report.checks.filter((c) => resultLabel(c) === "drift").length;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const driftNote = drifted ? `; ${plural(drifted, "column", "columns")} drifted` : "";
  if (report.ok) return drifted ? `valid (${plural(drifted, "column", "columns")} drifted)` : "valid";
  return `INVALID (${plural(failed, "check", "checks")} failed${driftNote})`;
}

/** The report as a plain aligned table (check, column, expected, found), for logs and terminals. */
export function formatChecks(report: ValidationReport): string {
  const rows = [
    ["RESULT", "CHECK", "COLUMN", "EXPECTED", "FOUND"],
    // The same labels the verdict counts (resultLabel), so "INVALID (N checks failed)" is the FAIL rows.
    ...report.checks.map((c) => [resultLabel(c), c.check, c.column ?? "-", c.expected, c.found]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join("  ")).join("\n");
}
