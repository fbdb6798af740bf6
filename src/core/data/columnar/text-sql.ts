/**
 * SQL pieces for typing CSV text by classifyString's rules (profile/values.ts), shared by the columnar
 * profile (profile-file.ts) and the columnar scan (scan-table.ts, csv-scan.ts) so both test for the
 * same null tokens.
 */
import { NULL_TOKENS } from "../profile/values.js";
import { sqlString } from "./engine.js";

/** SQL string literals, comma-separated (for IN lists and ENUM labels). */
export const sqlList = (xs: Iterable<string>): string => [...xs].map(sqlString).join(", ");

/**
 * `c IN (xs…)` written as equalities joined by OR: the same value (NULL for a NULL `c`), but DuckDB
 * plans an IN list of more than four constants as a MARK hash join over every row of the scan, before
 * any CASE can skip the rows that need no test. In csv-scan.ts's number pass the null-token test ran
 * that way for each of 20 columns, hashing 20 M texts per 1 M-row file.
 */
export const oneOfSql = (c: string, xs: Iterable<string>): string =>
  `(${[...xs].map((x) => `${c} = ${sqlString(x)}`).join(" OR ")})`;

/** The column expression `c` is missing: NULL, or (CSV text) one of classifyString's null tokens. */
export const missingSql = (c: string, text: boolean): string =>
  text ? `(${c} IS NULL OR ${oneOfSql(c, NULL_TOKENS)})` : `(${c} IS NULL)`;

/** The texts classifyString reads as booleans. */
export const TRUE_TEXTS = ["true", "True", "TRUE"];
export const FALSE_TEXTS = ["false", "False", "FALSE"];
