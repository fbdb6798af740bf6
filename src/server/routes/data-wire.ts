/** Data area wire format (snake_case), shared by the routes and the CLI's types. */
import { z } from "zod";
import type { DatasetDiff } from "../../core/data/diff.js";
import type { ValidationReport } from "../../core/data/expectations.js";
import type { DatasetProfile } from "../../core/data/model.js";
import type { ColumnProfile, TableProfile } from "../../core/data/profile/model.js";
import type { DatasetVersionWire } from "./data-version-wire.js";

export { versionToWire } from "./data-version-wire.js";

export const versionWire = z.object({
  name: z.string(),
  version: z.number(),
  id: z.string(),
  manifest_sha256: z.string(),
  kind: z.enum(["file", "dir"]),
  file_count: z.number(),
  total_bytes: z.number(),
  profile_sha256: z.string().nullable(),
  message: z.string().nullable(),
  tags: z.array(z.string()),
  created_at: z.number(),
  created_by: z.string(),
}) satisfies z.ZodType<DatasetVersionWire>;

export const entryWire = z.object({ path: z.string(), sha256: z.string(), size: z.number() });

function columnToWire(c: ColumnProfile, sketches: boolean): Record<string, unknown> {
  const s = c.sketches;
  return {
    name: c.name,
    kind: c.kind,
    type: c.type,
    count: c.count,
    null_count: c.nullCount,
    distinct: c.distinct,
    distinct_exact: c.distinctExact,
    mean: c.mean,
    variance: c.variance,
    std: c.std,
    min: c.min,
    max: c.max,
    quantiles: c.quantiles,
    histogram: c.histogram,
    frequent: c.frequent,
    frequent_max_error: c.frequentMaxError,
    ...(sketches
      ? {
          sketches: {
            value_kinds: s.valueKinds,
            moments: s.moments,
            quantiles: s.quantiles,
            distinct: s.distinct,
            frequent: { k: s.frequent.k, n: s.frequent.n, max_error: s.frequent.maxError, items: s.frequent.items },
          },
        }
      : {}),
  };
}

export function tableProfileToWire(p: TableProfile, sketches: boolean): Record<string, unknown> {
  return {
    format: p.format,
    row_count: p.rowCount,
    columns: p.columns.map((c) => columnToWire(c, sketches)),
    accuracy: {
      quantile_rank_error: p.accuracy.quantileRankError,
      distinct_relative_error: p.accuracy.distinctRelativeError,
      frequent_capacity: p.accuracy.frequentCapacity,
    },
  };
}

export function datasetProfileToWire(p: DatasetProfile | null, sketches: boolean): Record<string, unknown> | null {
  if (!p) return null;
  return {
    format: p.format,
    files: Object.fromEntries(
      Object.entries(p.files).map(([path, f]) => [
        path,
        { format: f.format, profile: tableProfileToWire(f.profile, sketches) },
      ]),
    ),
  };
}

export function diffToWire(d: DatasetDiff): Record<string, unknown> {
  return {
    files: {
      added: d.files.added,
      removed: d.files.removed,
      changed: d.files.changed.map((c) => ({ path: c.path, from: c.from, to: c.to })),
      unchanged: d.files.unchanged,
    },
    schema: d.schema,
    stats: d.stats.map((s) => ({
      file: s.file,
      column: s.column,
      kind_from: s.kindFrom,
      kind_to: s.kindTo,
      rows_from: s.rowsFrom,
      rows_to: s.rowsTo,
      null_share_from: s.nullShareFrom,
      null_share_to: s.nullShareTo,
      mean_from: s.meanFrom,
      mean_to: s.meanTo,
      distinct_from: s.distinctFrom,
      distinct_to: s.distinctTo,
      drift: s.drift,
      moved: s.moved,
    })),
  };
}

/** A stored validation report on the wire (snake_case; reports stored before a field existed pass through). */
export function reportToWire(report: unknown): Record<string, unknown> {
  const r = report as ValidationReport;
  return {
    ok: r.ok,
    dataset: r.dataset,
    file: r.file ?? null,
    checks: r.checks,
    drift: r.drift
      ? {
          against: r.drift.against,
          drifted: r.drift.drifted,
          drifted_share: r.drift.driftedShare,
          columns: r.drift.columns,
        }
      : null,
  };
}
