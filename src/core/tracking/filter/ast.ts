/**
 * The parsed form of MLflow's run search language (`filter_string` and `order_by` of runs/search).
 *
 * A filter is a list of clauses that must all hold (MLflow has only `AND`). Each clause names an
 * entity (metric, param, tag or run attribute), a key, an operator and a value; the type of the value
 * follows from the entity so the SQL compiler and the in-memory evaluator never guess.
 */

export const NUMERIC_OPS = ["=", "!=", ">", ">=", "<", "<="] as const;
export type NumericOp = (typeof NUMERIC_OPS)[number];

export const STRING_OPS = ["=", "!=", "LIKE", "ILIKE"] as const;
export type StringOp = (typeof STRING_OPS)[number];

export type ListOp = "IN" | "NOT IN";

/** Run attributes compared as strings (MLflow's searchable RunInfo attributes). */
export const STRING_ATTRIBUTES = ["run_id", "run_name", "status", "user_id", "artifact_uri"] as const;
export type StringAttribute = (typeof STRING_ATTRIBUTES)[number];

/** Run attributes compared as integers (milliseconds since the epoch). */
export const NUMERIC_ATTRIBUTES = ["start_time", "end_time"] as const;
export type NumericAttribute = (typeof NUMERIC_ATTRIBUTES)[number];

export type Attribute = StringAttribute | NumericAttribute;

export type Clause =
  | { type: "metric"; key: string; op: NumericOp; value: number }
  | { type: "param" | "tag"; key: string; op: StringOp; value: string }
  | { type: "string_attribute"; key: StringAttribute; op: StringOp; value: string }
  | { type: "list_attribute"; key: StringAttribute; op: ListOp; value: string[] }
  | { type: "numeric_attribute"; key: NumericAttribute; op: NumericOp; value: number };

export type OrderKey = { type: "metric" | "param" | "tag"; key: string } | { type: "attribute"; key: Attribute };

export type OrderBy = OrderKey & { ascending: boolean };

/**
 * MLflow's spellings of the entity prefixes (`metric`, `metrics`, `param`, `params`, …). A Map, not
 * an object literal: the prefix comes from the user, and `toString.x` must not find Object.prototype's.
 */
export const ENTITY_ALIASES: ReadonlyMap<string, "metric" | "param" | "tag" | "attribute"> = new Map([
  ["metric", "metric"],
  ["metrics", "metric"],
  ["param", "param"],
  ["params", "param"],
  ["parameter", "param"],
  ["parameters", "param"],
  ["tag", "tag"],
  ["tags", "tag"],
  ["attribute", "attribute"],
  ["attributes", "attribute"],
  ["attr", "attribute"],
  ["run", "attribute"],
]);

/** MLflow's alternate attribute names (the UI's column titles); a Map for the same reason. */
export const ATTRIBUTE_ALIASES: ReadonlyMap<string, Attribute> = new Map([
  ["created", "start_time"],
  ["Created", "start_time"],
  ["run name", "run_name"],
  ["Run name", "run_name"],
  ["Run Name", "run_name"],
]);

export function isStringAttribute(key: string): key is StringAttribute {
  return (STRING_ATTRIBUTES as readonly string[]).includes(key);
}

export function isNumericAttribute(key: string): key is NumericAttribute {
  return (NUMERIC_ATTRIBUTES as readonly string[]).includes(key);
}
