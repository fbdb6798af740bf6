import { describe, expect, it } from "vitest";
import { searchInMemory, type SearchableRun } from "./evaluate.js";
import { likeMatches, toGlob, toSqlLike } from "./like.js";
import { parseFilter, parseOrderByList } from "./parser.js";

function run(id: string, over: Partial<SearchableRun> = {}): SearchableRun {
  return {
    runId: id,
    runName: id,
    status: "FINISHED",
    userId: "u",
    artifactUri: "",
    startTime: 0,
    endTime: null,
    metrics: {},
    params: {},
    tags: {},
    ...over,
  };
}

describe("LIKE patterns", () => {
  it("means the same everywhere", () => {
    expect(likeMatches("abc", "a%", false)).toBe(true);
    expect(likeMatches("ABC", "a%", false)).toBe(false);
    expect(likeMatches("ABC", "a%", true)).toBe(true);
    expect(likeMatches("a%c", "a\\%c", false)).toBe(true);
    expect(likeMatches("abc", "a\\%c", false)).toBe(false);
    expect(likeMatches("a😀c", "a_c", false)).toBe(true);
    expect(likeMatches("a.c", "a.c", false)).toBe(true);
    expect(likeMatches("abc", "a.c", false)).toBe(false);
    expect(toSqlLike("a\\%b_%")).toBe("a\\%b_%");
    expect(toSqlLike("x\\")).toBe("x\\\\");
    expect(toGlob("a*?[%_")).toBe("a[*][?][[]*?");
  });
});

describe("searchInMemory", () => {
  const runs = [
    run("a", { startTime: 3, metrics: { auc: 0.9 }, params: { lr: "0.1" } }),
    run("b", { startTime: 2, metrics: { auc: Number.NaN } }),
    run("c", { startTime: 1, metrics: { auc: 0.5 }, endTime: 10 }),
    run("d", { startTime: 4 }),
  ];
  const ids = (filter: string, order: string[] = []) =>
    searchInMemory(runs, parseFilter(filter), parseOrderByList(order)).map((r) => r.runId);
  it("filters with MLflow's missing-value rule and IEEE NaN", () => {
    expect(ids("metrics.auc > 0.6")).toEqual(["a"]);
    expect(ids("metrics.auc != 0.5")).toEqual(["a", "b"]);
    expect(ids("attributes.end_time >= 0")).toEqual(["c"]);
    expect(ids("params.lr != 'x'")).toEqual(["a"]);
    expect(ids("run_id IN ('a', 'c')")).toEqual(["a", "c"]);
  });
  it("orders values, then NaN, then missing, in both directions", () => {
    expect(ids("", ["metrics.auc DESC"])).toEqual(["a", "c", "b", "d"]);
    expect(ids("", ["metrics.auc"])).toEqual(["c", "a", "b", "d"]);
    expect(ids("")).toEqual(["d", "a", "b", "c"]);
    expect(ids("", ["start_time"])).toEqual(["c", "b", "a", "d"]);
  });
});
