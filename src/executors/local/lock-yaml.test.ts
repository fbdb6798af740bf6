import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { lockYaml } from "./lock-yaml.js";

/** What workspace.ts wrote with `yaml` alone. */
const asYaml = (value: unknown) => stringify(value, { sortMapEntries: true, lineWidth: 0 });

const STRINGS = [
  "true",
  "True",
  "FALSE",
  "null",
  "Null",
  "1",
  "-1",
  "+1",
  "0o17",
  "0x1F",
  "1.5",
  ".5",
  "1.",
  "1e3",
  "1E-3",
  ".inf",
  "-.Inf",
  ".nan",
  "-",
  "- a",
  "-a",
  "--",
  "a-",
  " a",
  "a ",
  "a  b",
  "echo hi",
  "python3 train.py --lr 0.1",
  "./data/x.csv",
  "data/x.csv",
  ".hidden",
  "..",
  "./",
  "/",
  "a.b.c",
  "_x",
  "yes",
  "no",
  "on",
  "y",
  "2001-12-14",
  "1_000",
  "0b101",
  "e3",
  "sha256",
  "9fe295388cef7e89f89342260bad31a88287687af07480195765f63ed187ca27",
  "1234567890123456789012345",
];

function lockOf(cmd: unknown, extra: Record<string, unknown> = {}) {
  return {
    schema: 1,
    pipelines: {
      train: {
        spec_digest: "30de87204b792d793a0f16972a4c43a5e14185bb25acd649d3817a10bd392d39",
        params: { lr: 0.1, epochs: 3, name: "run a", on: true, none: null, neg: -0, big: 1e21, tiny: 5e-7 },
        steps: {
          fit: {
            cmd,
            cache_key: "9fe295388cef7e89f89342260bad31a88287687af07480195765f63ed187ca27",
            params: {},
            deps: { table: { source: "steps.prepare.outputs.table", sha256: "ab".repeat(32) } },
            outs: { model: "cd".repeat(32) },
            metrics: { auc: 0.8123456789, loss: 1, "val.acc": 0.5 },
            ...extra,
          },
          "2nd": { cmd: "true", cache_key: "x", params: {}, deps: {}, outs: {} },
        },
      },
      other: { spec_digest: "d", params: {}, steps: {} },
    },
  };
}

describe("lockYaml", () => {
  it("writes the same bytes as yaml's stringify for the strings, numbers and maps it takes", () => {
    for (const s of STRINGS) {
      const lock = lockOf(s, { [s]: s });
      const fast = lockYaml(lock);
      if (fast !== null) expect(fast, s).toBe(asYaml(lock));
    }
    // Most of them are taken (not handed back to yaml).
    expect(STRINGS.filter((s) => lockYaml(lockOf(s, { [s]: s })) !== null).length).toBeGreaterThan(40);
  });

  it("writes a lock of 200 plain steps as yaml does", () => {
    const steps: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++)
      steps[`s${i}`] = { cmd: "true", cache_key: `${i}`.padStart(64, "0"), params: {}, deps: {}, outs: {} };
    const lock = { schema: 1, pipelines: { bench: { spec_digest: "d", params: {}, steps } } };
    expect(lockYaml(lock)).toBe(asYaml(lock));
  });

  it("hands back what it does not write: multi-line commands, lists, empty and other strings, odd numbers", () => {
    for (const value of [
      "echo a\necho b\n",
      "a: b",
      "a # b",
      "it's",
      'say "hi"',
      "ünïcode",
      "tab\there",
      "",
      "---x",
      "...x",
      ["a", "b"],
      [],
      Number.NaN,
      Number.POSITIVE_INFINITY,
      undefined,
      new Date(0),
    ]) {
      expect(lockYaml(lockOf(value)), String(value)).toBeNull();
    }
    expect(lockYaml({})).toBeNull();
  });
});
