// Tests of the pipeline's own code, run by pipeline `ci` on every push (node --test):
//   node --test steps/prepare.test.mjs
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const PREPARE = join(import.meta.dirname, "prepare.mjs");

function prepare(months) {
  const dir = mkdtempSync(join(tmpdir(), "flights-prepare-"));
  const inputs = months.map((rows, i) => {
    const file = join(dir, `month-${i}.csv`);
    writeFileSync(file, ["date,distance,origin,destination,delay", ...rows].join("\n") + "\n");
    return ["--in", file];
  });
  const run = spawnSync(
    process.execPath,
    [PREPARE, ...inputs.flat(), "--train", join(dir, "train"), "--test", join(dir, "test"), "--test-share", "0.5"],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stderr);
  const read = (side) =>
    readFileSync(join(dir, side, `${side}.csv`), "utf8")
      .trim()
      .split("\n");
  return { train: read("train"), test: read("test"), stdout: run.stdout };
}

const january = Array.from(
  { length: 40 },
  (_, i) => `2001-01-0${1 + (i % 9)}T${10 + (i % 8)}:30,${300 + i},${i % 3 ? "ORD" : "SMF"},LAX,${i % 4 ? 5 : 40}`,
);

test("labels a flight delayed when it arrived more than 15 minutes late", () => {
  const { train, test: held } = prepare([january]);
  const rows = [...train.slice(1), ...held.slice(1)].map((l) => l.split(","));
  assert.equal(rows.length, 40);
  assert.equal(rows.filter((r) => r[6] === "1").length, 10);
});

test("reads the scheduled hour and weekday from the date, as UTC", () => {
  const { train, test: held } = prepare([["2001-01-01T13:30,500,ORD,LAX,0"]]);
  const row = [...train.slice(1), ...held.slice(1)][0].split(",");
  assert.deepEqual(row.slice(0, 2), ["13.5", "1"]);
});

test("keeps earlier months for training and tests on the fresh month only", () => {
  const fresh = january.map((l) => l.replace("2001-01", "2001-02"));
  const { train, test: held } = prepare([january, fresh]);
  assert.ok(held.length > 1, "some fresh flights are held out");
  assert.equal(train.length - 1 + held.length - 1, 80);
  const { test: again } = prepare([january, fresh]);
  assert.deepEqual(again, held, "the split is the same on every run");
});

test("sizes airports by their share of departures", () => {
  const { train, test: held } = prepare([january]);
  const sizes = new Map([...train.slice(1), ...held.slice(1)].map((l) => l.split(",")).map((r) => [r[3], r[5]]));
  assert.equal(sizes.get("ORD"), "large");
  assert.equal(sizes.get("SMF"), "medium");
});
