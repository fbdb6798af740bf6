/**
 * What a migration file exports. Files in `migrations/` named `NNNN_name.ts` are found and run in
 * name order; areas take number ranges so they never collide: 0001-0099 foundation, 0100 pipelines,
 * 0200 data, 0300 tracking, 0400 registry, 0500 serving, 0600 monitoring, 0700 portal/web.
 * Forward-only: a released migration is never edited; a change is a new file.
 */
import type { Kysely } from "kysely";

export type SqlDialectName = "sqlite" | "postgres";

export interface ColumnTypes {
  /** Text id or name. */
  id: "text";
  text: "text";
  /** Milliseconds since the epoch, or any integer that may pass 2^31. */
  bigint: "bigint";
  integer: "integer";
  float: "double precision";
  /** 0/1 */
  bool: "integer";
  /** JSON as text. */
  json: "text";
  /** An auto-incrementing integer primary key column type (use with `.primaryKey()`). */
  serial: "integer" | "bigserial";
}

export function columnTypes(dialect: SqlDialectName): ColumnTypes {
  return {
    id: "text",
    text: "text",
    bigint: "bigint",
    integer: "integer",
    float: "double precision",
    bool: "integer",
    json: "text",
    serial: dialect === "sqlite" ? "integer" : "bigserial",
  };
}

export interface TandemMigration {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was, not as it is
  up(db: Kysely<any>, dialect: SqlDialectName, types: ColumnTypes): Promise<void>;
}
