/**
 * Inputs of `tandem monitors drift`: a local tabular file, or `dataset://NAME@VERSION` — a dataset
 * version's tabular files fetched through the API (the same routes `tandem data pull` uses), verified
 * against their sha256, and read with the same readers. A directory version's tabular files are
 * stacked into one table.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { TabularFileError, tabularFormatOf } from "../core/data/readers/index.js";
import type { ScanOptions } from "../core/data/columnar/scan-table.js";
import type { ColumnType } from "../core/monitoring/columns.js";
import { loadTable, type LoadedTable } from "../core/monitoring/table-load.js";
import { ApiError } from "./api.js";
import { openApi, projectPath, UsageError, VerdictError } from "./context.js";

export const DATASET_SCHEME = "dataset://";

interface Entry {
  path: string;
  sha256: string;
  size: number;
}

/** Rows of several tables one after the other; a column missing from a table is null there. */
function stack(tables: LoadedTable[]): LoadedTable {
  if (tables.length === 1) return tables[0]!;
  const names = [...new Set(tables.flatMap((t) => Object.keys(t.table)))];
  // Keyed by the files' column names: no prototype (as each table's, table-load.ts), and own keys read.
  const table = Object.create(null) as Record<string, unknown[]>;
  const types = Object.create(null) as Record<string, ColumnType>;
  for (const name of names) {
    const out: unknown[] = [];
    for (const t of tables) {
      const col = Object.hasOwn(t.table, name) ? t.table[name] : undefined;
      for (let i = 0; i < t.rows; i++) out.push(col ? col[i] : null);
      if (Object.hasOwn(t.types, name)) types[name] ??= t.types[name]!;
    }
    table[name] = out;
  }
  return { table, types, rows: tables.reduce((n, t) => n + t.rows, 0) };
}

async function loadDataset(ref: string, project: string): Promise<LoadedTable> {
  const spec = ref.slice(DATASET_SCHEME.length);
  const at = spec.lastIndexOf("@");
  const [name, version] = at <= 0 ? [spec, "latest"] : [spec.slice(0, at), spec.slice(at + 1)];
  const api = await openApi();
  const base = projectPath(project, `/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`);
  const shown = await api.request<{ version: { name: string; version: number }; entries: Entry[] }>("GET", base);
  const label = `${shown.version.name}@${shown.version.version}`;
  const files = shown.entries.filter((e) => tabularFormatOf(e.path) !== null);
  if (files.length === 0) throw new UsageError(`${ref}: ${label} has no CSV, JSON Lines or Parquet files`);
  const dir = mkdtempSync(join(tmpdir(), "tandem-drift-"));
  try {
    const tables: LoadedTable[] = [];
    for (const [i, e] of files.entries()) {
      const path = `${base}/files/${e.path.split("/").map(encodeURIComponent).join("/")}`;
      const res = await api.raw("GET", path);
      if (res.status !== 200) throw new ApiError(res.status, "HTTP_ERROR", `${label}:${e.path}: HTTP ${res.status}`);
      const sha = createHash("sha256").update(res.body).digest("hex");
      if (sha !== e.sha256)
        throw new VerdictError(`${label}:${e.path}: content does not match its manifest (sha256 ${sha})`);
      const local = join(dir, `${i}-${basename(e.path)}`);
      writeFileSync(local, res.body);
      tables.push(await loadTable(local, `${label}:${e.path}`));
    }
    return stack(tables);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Load one side of a drift check; bad files are usage errors (exit 2) naming the flag. */
export async function loadDriftInput(
  ref: string,
  flag: string,
  project: string,
  options: ScanOptions = {},
): Promise<LoadedTable> {
  try {
    return ref.startsWith(DATASET_SCHEME)
      ? await loadDataset(ref, project)
      : await loadTable(ref, undefined, undefined, options);
  } catch (error) {
    // An unreadable, missing or malformed input is the caller's to fix, not a verdict.
    if (error instanceof TabularFileError || error instanceof TypeError) {
      throw new UsageError(`${flag}: ${error.message}`);
    }
    throw error;
  }
}
