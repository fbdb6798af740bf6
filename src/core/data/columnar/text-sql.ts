/**
 * SQL pieces for typing CSV text by classifyString's rules (profile/values.ts), shared by the columnar
 * profile (profile-file.ts) and the columnar scan (scan-table.ts, csv-scan.ts) so both test for the
 * same null tokens.
 */
import { NULL_TOKENS } from "../profile/values.js";
import { sqlString } from "./engine.js";

/** SQL string literals, comma-separated (for IN lists and ENUM labels). */
export const sqlList = (xs: Iterable<string>): string => [...xs].map(sqlString).join(", ");

/** NULL_TOKENS as an IN list. */
export const NULL_TOKENS_SQL = sqlList(NULL_TOKENS);

/** The column expression `c` is missing: NULL, or (CSV text) one of classifyString's null tokens. */
export const missingSql = (c: string, text: boolean): string =>
  text ? `(${c} IS NULL OR ${c} IN (${NULL_TOKENS_SQL}))` : `(${c} IS NULL)`;

/** The texts classifyString reads as booleans. */
export const TRUE_TEXTS = ["true", "True", "TRUE"];
export const FALSE_TEXTS = ["false", "False", "FALSE"];
