/** Wire shapes of src/server/routes/data.ts and data-wire.ts. */
export interface DatasetSummaryWire {
  name: string;
  latest_version: number | null;
  created_at: number;
  created_by: string;
}

export interface DatasetVersionWire {
  name: string;
  version: number;
  id: string;
  manifest_sha256: string;
  kind: "file" | "dir";
  file_count: number;
  total_bytes: number;
  profile_sha256: string | null;
  message: string | null;
  tags: string[];
  created_at: number;
  created_by: string;
}

export interface EntryWire {
  path: string;
  sha256: string;
  size: number;
}

export interface ColumnProfileWire {
  name: string;
  kind: string;
  type: string;
  count: number;
  null_count: number;
  distinct: number;
  distinct_exact: boolean;
  mean: number | null;
  variance: number | null;
  std: number | null;
  min: number | string | null;
  max: number | string | null;
  quantiles: Record<string, number> | null;
  histogram: { edges: number[]; counts: number[] } | null;
  frequent: Array<{ value: unknown; count: number }>;
  frequent_max_error: number;
}

export interface TableProfileWire {
  format: string;
  row_count: number;
  columns: ColumnProfileWire[];
}

export interface DatasetProfileWire {
  format: string;
  files: Record<string, { format: string; profile: TableProfileWire }>;
}

export interface DiffWire {
  files: {
    added: EntryWire[];
    removed: EntryWire[];
    changed: Array<{ path: string; from: EntryWire; to: EntryWire }>;
    unchanged: number;
  };
  schema: Array<{ file: string; column: string; change: string; from: string | null; to: string | null }>;
  stats: Array<{
    file: string;
    column: string;
    /** A datetime column's mean is in epoch milliseconds. */
    kind_from: string;
    kind_to: string;
    rows_from: number;
    rows_to: number;
    null_share_from: number;
    null_share_to: number;
    mean_from: number | null;
    mean_to: number | null;
    distinct_from: number;
    distinct_to: number;
    drift: { test: string; score: number; threshold: number; drifted: boolean } | null;
    moved: boolean;
  }>;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
