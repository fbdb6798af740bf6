/**
 * Table profiles: built from column chunks as a reader streams them (`ProfileBuilder`), in one call
 * for an in-memory table (`profileTable`), and merged without the rows (`mergeProfiles`).
 */
import { FREQUENT_K } from "../sketches/frequent.js";
import { HLL_P } from "../sketches/hll.js";
import { KLL_K } from "../sketches/kll.js";
import { InvalidInputError } from "../../errors.js";
import { ColumnAccumulator, type ColumnSource } from "./accumulator.js";
import { PROFILE_FORMAT, type TableProfile, type ValueKind } from "./model.js";

/** Columns as arrays of equal length, keyed by name (the shape monitoring's windows and readers produce). */
export type Columns = Record<string, ArrayLike<unknown>>;

export interface ProfileOptions {
  /** Kinds declared by the file's schema, by column (default: inferred from values). */
  declared?: Record<string, ValueKind>;
  /** Values are untyped text, as in CSV (default false). */
  text?: boolean;
}

export const PROFILE_ACCURACY: TableProfile["accuracy"] = {
  // DataSketches' measured rule for KLL, ε ≈ 2.446 / k^0.9433, at 99 % confidence.
  quantileRankError: Math.round((2.446 / Math.pow(KLL_K, 0.9433)) * 1e4) / 1e4,
  distinctRelativeError: Math.round((1.04 / Math.sqrt(2 ** HLL_P)) * 1e4) / 1e4,
  frequentCapacity: FREQUENT_K,
};

export class ProfileBuilder {
  private readonly columns = new Map<string, ColumnAccumulator>();
  private rows = 0;

  constructor(private readonly options: ProfileOptions = {}) {}

  get rowCount(): number {
    return this.rows;
  }

  private column(name: string): ColumnAccumulator {
    let acc = this.columns.get(name);
    if (!acc) {
      const declared = this.options.declared;
      const source: ColumnSource = {
        declared: declared && Object.hasOwn(declared, name) ? declared[name] : undefined,
        text: this.options.text,
      };
      acc = new ColumnAccumulator(name, source);
      // A column first seen now (JSON Lines keys can appear late) was missing in every earlier row.
      if (this.rows > 0) acc.addMissing(this.rows);
      this.columns.set(name, acc);
    }
    return acc;
  }

  /** Declares columns up front so the profile keeps the file's column order even for all-missing ones. */
  declareColumns(names: string[]): void {
    for (const name of names) this.column(name);
  }

  /** Adds `rows` rows (default: the length of the first column); columns not given are missing in them. */
  addColumns(columns: Columns, rows?: number): void {
    const names = Object.keys(columns);
    const n = rows ?? (names.length ? columns[names[0]!]!.length : 0);
    for (const name of names) {
      const values = columns[name]!;
      if (values.length < n) {
        throw new InvalidInputError(`column ${JSON.stringify(name)} has ${values.length} values, expected ${n}`);
      }
      this.column(name).add(values, 0, n);
    }
    // Own keys only: with `in`, a table without a column `toString` still "had" it.
    for (const [name, acc] of this.columns) if (!Object.hasOwn(columns, name)) acc.addMissing(n);
    this.rows += n;
  }

  finish(): TableProfile {
    return tableProfileOf(this.rows, [...this.columns.values()]);
  }
}

/** The profile of `rows` rows whose columns were accumulated (in the file's column order). */
export function tableProfileOf(rows: number, columns: ColumnAccumulator[]): TableProfile {
  return {
    format: PROFILE_FORMAT,
    rowCount: rows,
    columns: columns.map((c) => c.describe()),
    accuracy: PROFILE_ACCURACY,
  };
}

/** Profiles an in-memory table: `profileTable({age: [31, 40], city: ["Oslo", "Lima"]})`. */
export function profileTable(columns: Columns, options: ProfileOptions = {}): TableProfile {
  const builder = new ProfileBuilder(options);
  builder.addColumns(columns);
  return builder.finish();
}

/**
 * Merges profiles of disjoint row sets into the profile of their union (any number, in one pass:
 * each sketch is decoded once and the result described once). A column missing from one profile
 * counts as missing in all of that profile's rows.
 */
export function mergeProfiles(...profiles: TableProfile[]): TableProfile {
  const merged = new Map<string, ColumnAccumulator>();
  let rows = 0;
  for (const profile of profiles) {
    if (profile.format !== PROFILE_FORMAT) {
      throw new InvalidInputError(
        `cannot merge a profile of format ${JSON.stringify(profile.format)}; expected ${PROFILE_FORMAT}`,
      );
    }
    const seen = new Set<string>();
    for (const column of profile.columns) {
      seen.add(column.name);
      const incoming = ColumnAccumulator.fromProfile(column);
      const acc = merged.get(column.name);
      if (acc) acc.merge(incoming);
      else {
        if (rows > 0) incoming.addMissing(rows);
        merged.set(column.name, incoming);
      }
    }
    for (const [name, acc] of merged) if (!seen.has(name)) acc.addMissing(profile.rowCount);
    rows += profile.rowCount;
  }
  return {
    format: PROFILE_FORMAT,
    rowCount: rows,
    columns: [...merged.values()].map((c) => c.describe()),
    accuracy: PROFILE_ACCURACY,
  };
}
