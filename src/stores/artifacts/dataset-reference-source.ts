import { NotFoundError } from "../../core/errors.js";
import type { DataService } from "../../core/data/service.js";
import type { BlobFiles } from "../../core/data/ports.js";
import { tabularFormatOf } from "../../core/data/readers/index.js";
import type { Table } from "../../core/monitoring/columns.js";
import type { ReferenceSource } from "../../core/monitoring/monitors/ports.js";
import { loadTable } from "../../core/monitoring/table-load.js";

/**
 * A monitor's reference from a dataset version: its tabular files read into columns (several files
 * are concatenated in manifest order; columns missing from one file are null there).
 */
export class DatasetReferenceSource implements ReferenceSource {
  constructor(
    /** Late-bound: the data area may be wired after monitoring. */
    private readonly data: () => DataService,
    private readonly blobFiles: BlobFiles,
  ) {}

  async load(project: string, reference: string): Promise<Table> {
    const ref = reference.replace(/^dataset:\/\//, "");
    const version = await this.data().resolveDatasetVersion(project, ref);
    const files = version.entries.filter((e) => tabularFormatOf(e.path) !== null);
    if (files.length === 0) throw new NotFoundError(`${reference} has no tabular file (CSV, JSON Lines or Parquet)`);
    // Keyed by the files' column names: no prototype (a column `toString` found Object.prototype's).
    const out = Object.create(null) as Record<string, unknown[]>;
    let rows = 0;
    for (const entry of files) {
      const blob = await this.blobFiles.open(entry.sha256);
      try {
        const loaded = await loadTable(blob.path, `${reference}:${entry.path}`, tabularFormatOf(entry.path)!);
        for (const [name, values] of Object.entries(loaded.table)) {
          const col = (out[name] ??= new Array<unknown>(rows).fill(null));
          // Numeric columns may come as Float64Array with NaN for missing: monitors see null, as before.
          for (let i = 0; i < values.length; i++) {
            const v = values[i];
            col.push(typeof v === "number" && Number.isNaN(v) ? null : v);
          }
        }
        rows += loaded.rows;
        for (const col of Object.values(out)) while (col.length < rows) col.push(null);
      } finally {
        await blob.release();
      }
    }
    return out;
  }
}
