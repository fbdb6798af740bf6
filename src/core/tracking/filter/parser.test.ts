import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../errors.js";
import { parseFilter, parseOrderBy, parseOrderByList } from "./parser.js";

describe("parseFilter", () => {
  it("parses MLflow's documented examples", () => {
    expect(parseFilter("metrics.rmse < 1 and params.model = 'tree'")).toEqual([
      { type: "metric", key: "rmse", op: "<", value: 1 },
      { type: "param", key: "model", op: "=", value: "tree" },
    ]);
    expect(parseFilter("tags.`mlflow.source.type` = 'LOCAL'")).toEqual([
      { type: "tag", key: "mlflow.source.type", op: "=", value: "LOCAL" },
    ]);
    expect(parseFilter('metrics."my metric" >= -1.5e2')).toEqual([
      { type: "metric", key: "my metric", op: ">=", value: -150 },
    ]);
    expect(parseFilter("attributes.status IN ('FINISHED', 'FAILED')")).toEqual([
      { type: "list_attribute", key: "status", op: "IN", value: ["FINISHED", "FAILED"] },
    ]);
    expect(parseFilter("run_id NOT IN ('a')")).toEqual([
      { type: "list_attribute", key: "run_id", op: "NOT IN", value: ["a"] },
    ]);
    expect(parseFilter("attributes.start_time > 100 AND created <= 200")).toEqual([
      { type: "numeric_attribute", key: "start_time", op: ">", value: 100 },
      { type: "numeric_attribute", key: "start_time", op: "<=", value: 200 },
    ]);
    expect(parseFilter(`params.lr ILIKE '%e-3' and tags.note like "it''s"`)).toEqual([
      { type: "param", key: "lr", op: "ILIKE", value: "%e-3" },
      { type: "tag", key: "note", op: "LIKE", value: "it''s" },
    ]);
    expect(parseFilter("`params`.x != 'it''s'")).toEqual([{ type: "param", key: "x", op: "!=", value: "it's" }]);
    expect(parseFilter("\"run name\" = 'a'")).toEqual([
      { type: "string_attribute", key: "run_name", op: "=", value: "a" },
    ]);
    expect(parseFilter("metrics.train.loss<0.5")).toEqual([{ type: "metric", key: "train.loss", op: "<", value: 0.5 }]);
    expect(parseFilter("")).toEqual([]);
    expect(parseFilter("   ")).toEqual([]);
  });

  it.each([
    ["metrics.auc > 'x'", "expected a number", 14],
    ["params.a > 'x'", "operator '>' is not allowed for params", 9],
    ["metrics.auc LIKE 1", "operator 'LIKE' is not allowed for metrics", 12],
    ["params.a = 1", "expected a quoted string", 11],
    ["foo.a = 1", "unknown prefix 'foo'", 0],
    ["attributes.bogus = 'x'", "unknown attribute 'bogus'", 0],
    ["metrics.a > 1 OR metrics.b > 1", "OR is not supported", 14],
    ["metrics.a > 1 metrics.b > 1", "expected AND", 14],
    ["params.a = 'x", "unterminated", 11],
    ["params.tags IN ('a')", "operator 'IN' is not allowed", 12],
    ["status IN ('a',)", "expected a quoted string", 15],
    ["status NOT = 'a'", "expected IN after NOT", 11],
    ["metrics. > 1", "missing key", 0],
    ["metrics.a >", "expected a number", 11],
    ["datasets.name = 'x'", "dataset filters are not supported", 0],
  ])("rejects %s with a position", (input, message, position) => {
    let error: unknown;
    try {
      parseFilter(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(message);
    expect((error as InvalidInputError).details).toEqual({ position });
  });
});

describe("parseOrderBy", () => {
  it("parses keys and directions", () => {
    expect(parseOrderBy("metrics.auc DESC")).toEqual({ type: "metric", key: "auc", ascending: false });
    expect(parseOrderBy("metrics.`a b` asc")).toEqual({ type: "metric", key: "a b", ascending: true });
    expect(parseOrderBy("attributes.start_time")).toEqual({ type: "attribute", key: "start_time", ascending: true });
    expect(parseOrderBy("run_name desc")).toEqual({ type: "attribute", key: "run_name", ascending: false });
    expect(parseOrderBy("params.lr")).toEqual({ type: "param", key: "lr", ascending: true });
    expect(parseOrderBy("tags.`x` DESC")).toEqual({ type: "tag", key: "x", ascending: false });
  });
  it("rejects junk and duplicates", () => {
    expect(() => parseOrderBy("metrics.auc sideways")).toThrow(/expected ASC, DESC/);
    expect(() => parseOrderBy("")).toThrow(InvalidInputError);
    expect(() => parseOrderByList(["metrics.a", "metrics.a DESC"])).toThrow(/appears twice/);
  });
  // CI found `toString..` answered 500: the prefix was looked up in an object literal, found
  // Object.prototype.toString, and a function went on as the entity type.
  it("refuses Object.prototype's names as prefixes and attributes", () => {
    for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"]) {
      expect(() => parseOrderBy(`${name}.x`)).toThrow(/unknown prefix/);
      expect(() => parseOrderBy(`${name}..`)).toThrow(InvalidInputError);
      expect(() => parseOrderBy(name)).toThrow(/unknown attribute/);
      expect(() => parseFilter(`${name}.a = 'x'`)).toThrow(/unknown prefix/);
      expect(() => parseFilter(`attributes.${name} = 'x'`)).toThrow(/unknown attribute/);
    }
  });
});

const KNOWN_TYPES = ["metric", "param", "tag", "attribute", "string_attribute", "list_attribute", "numeric_attribute"];

/**
 * Anything that is not an InvalidInputError (TypeError, RangeError, a regex SyntaxError) would be a 500,
 * and so would a parse that succeeds with a type the stores do not know.
 */
function parsesOrRefuses(fn: () => { type: unknown } | { type: unknown }[]): void {
  let parsed: { type: unknown }[];
  try {
    const result = fn();
    parsed = Array.isArray(result) ? result : [result];
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    return;
  }
  for (const p of parsed) expect(KNOWN_TYPES).toContain(p.type);
}

describe("fuzzing", () => {
  const fragments = fc.constantFrom(
    "metrics.",
    "params.",
    "tags.",
    "attributes.",
    "auc",
    "`a b`",
    '"x"',
    "'v'",
    "'",
    '"',
    "`",
    " ",
    "AND",
    "and",
    "NOT",
    "IN",
    "LIKE",
    "ILIKE",
    "=",
    "!=",
    "<>",
    ">",
    ">=",
    "<",
    "<=",
    "(",
    ")",
    ",",
    "1",
    "-2.5e3",
    ".5",
    "status",
    "start_time",
    "run_id",
    "%",
    "_",
    "\\",
    "\0",
    "é",
    "😀",
    "1e999",
    "OR",
    "toString",
    "__proto__",
    "constructor",
  );
  const filterish = fc.array(fragments, { maxLength: 14 }).map((parts) => parts.join(""));

  it("arbitrary strings give clauses or an InvalidInputError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => parsesOrRefuses(() => parseFilter(s))),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => parsesOrRefuses(() => parseFilter(s))),
      { numRuns: 1000 },
    );
  });
  it("near-valid filters give clauses or an InvalidInputError", () => {
    fc.assert(
      fc.property(filterish, (s) => parsesOrRefuses(() => parseFilter(s))),
      { numRuns: 5000 },
    );
  });
  it("order_by strings give an order or an InvalidInputError", () => {
    fc.assert(
      fc.property(fc.oneof(filterish, fc.string({ maxLength: 40 })), (s) => parsesOrRefuses(() => parseOrderBy(s))),
      { numRuns: 3000 },
    );
  });
});
