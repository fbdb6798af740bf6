/**
 * What changed between two dataset versions: files (added, removed, changed), schemas of the
 * tabular files present in both (columns added/removed, kind or type changed), and the statistics
 * that moved (rows, missing share, mean, distinct count, profile drift score).
 */
import type { ManifestEntry } from "../artifacts/ports.js";
import type { DatasetProfile } from "./model.js";
import { columnDrift, type ColumnDrift } from "./profile/drift.js";
import type { ColumnKind, ColumnProfile } from "./profile/model.js";

export interface SchemaChange {
  file: string;
  column: string;
  change: "column_added" | "column_removed" | "kind_changed" | "type_changed";
  from: string | null;
  to: string | null;
}

export interface StatChange {
  file: string;
  column: string;
  /** The column's kind on each side: a datetime's mean, min and max are epoch milliseconds. */
  kindFrom: ColumnKind;
  kindTo: ColumnKind;
  rowsFrom: number;
  rowsTo: number;
  nullShareFrom: number;
  nullShareTo: number;
  meanFrom: number | null;
  meanTo: number | null;
  distinctFrom: number;
  distinctTo: number;
  drift: ColumnDrift | null;
  /** Drifted, or missing share moved ≥ 1 point, or mean moved ≥ 0.1 reference std, or distinct count ≥ 10 %. */
  moved: boolean;
}

export interface DatasetDiff {
  files: {
    added: ManifestEntry[];
    removed: ManifestEntry[];
    changed: Array<{ path: string; from: ManifestEntry; to: ManifestEntry }>;
    unchanged: number;
  };
  schema: SchemaChange[];
  stats: StatChange[];
}

const share = (c: ColumnProfile) => (c.count ? c.nullCount / c.count : 0);

function statChange(file: string, a: ColumnProfile, b: ColumnProfile): StatChange {
  const drift = columnDrift(a, b);
  const meanMoved =
    a.mean !== null && b.mean !== null && Math.abs(b.mean - a.mean) >= 0.1 * Math.max(a.std ?? 0, 1e-12);
  const distinctMoved = Math.abs(b.distinct - a.distinct) >= 0.1 * Math.max(a.distinct, 1);
  return {
    file,
    column: a.name,
    kindFrom: a.kind,
    kindTo: b.kind,
    rowsFrom: a.count,
    rowsTo: b.count,
    nullShareFrom: share(a),
    nullShareTo: share(b),
    meanFrom: a.mean,
    meanTo: b.mean,
    distinctFrom: a.distinct,
    distinctTo: b.distinct,
    drift,
    moved: Boolean(drift?.drifted) || Math.abs(share(b) - share(a)) >= 0.01 || meanMoved || distinctMoved,
  };
}

export function diffVersions(
  from: { entries: ManifestEntry[]; profile: DatasetProfile | null },
  to: { entries: ManifestEntry[]; profile: DatasetProfile | null },
): DatasetDiff {
  const a = new Map(from.entries.map((e) => [e.path, e]));
  const b = new Map(to.entries.map((e) => [e.path, e]));
  const files: DatasetDiff["files"] = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const [path, e] of b) {
    const old = a.get(path);
    if (!old) files.added.push(e);
    else if (old.sha256 !== e.sha256) files.changed.push({ path, from: old, to: e });
    else files.unchanged++;
  }
  for (const [path, e] of a) if (!b.has(path)) files.removed.push(e);

  const schema: SchemaChange[] = [];
  const stats: StatChange[] = [];
  const pa = from.profile?.files ?? {};
  const pb = to.profile?.files ?? {};
  for (const file of Object.keys(pb).sort()) {
    const fa = pa[file];
    const fb = pb[file]!;
    if (!fa) continue;
    const colsA = new Map(fa.profile.columns.map((c) => [c.name, c]));
    const colsB = new Map(fb.profile.columns.map((c) => [c.name, c]));
    for (const [name, cb] of colsB) {
      const ca = colsA.get(name);
      if (!ca) {
        schema.push({ file, column: name, change: "column_added", from: null, to: `${cb.kind}/${cb.type}` });
        continue;
      }
      if (ca.kind !== cb.kind) schema.push({ file, column: name, change: "kind_changed", from: ca.kind, to: cb.kind });
      else if (ca.type !== cb.type)
        schema.push({ file, column: name, change: "type_changed", from: ca.type, to: cb.type });
      stats.push(statChange(file, ca, cb));
    }
    for (const [name, ca] of colsA) {
      if (!colsB.has(name))
        schema.push({ file, column: name, change: "column_removed", from: `${ca.kind}/${ca.type}`, to: null });
    }
  }
  return { files, schema, stats };
}
