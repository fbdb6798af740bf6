/**
 * Profiles through DuckDB must be the row-wise profiles to the bit (issue 18: profile numbers do not
 * move), sketches included. The oracle is the row-wise reader and accumulator (`profileFile`), on
 * generated CSV, TSV and Parquet files of every kind of value the profile rules know: missing tokens,
 * number spellings, mixed kinds, datetimes, NaN and ±inf, quoting, several chunks and row groups,
 * empty files. Files DuckDB must not read as Tandem does fall back, and then fail as the readers do.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../../../../test/helpers/seeded.js";
import { profileFile } from "../readers/index.js";
import type { TabularFormat } from "../readers/types.js";
import { openColumnarEngine, sqlString } from "./engine.js";
import { profileColumnar, profileTabularFile } from "./profile-file.js";

const vega = createRequire(import.meta.url).resolve("vega-datasets");
const VEGA_DATA = join(vega.slice(0, vega.lastIndexOf("vega-datasets") + "vega-datasets".length), "data");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tandem-columnar-profile-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const formatOf = (path: string): TabularFormat =>
  path.endsWith(".parquet") ? "parquet" : path.endsWith(".tsv") ? "tsv" : "csv";

/** The columnar profile exists and equals the row-wise one in every field. */
async function expectSameProfile(path: string): Promise<void> {
  const columnar = await profileColumnar(path, formatOf(path));
  expect(columnar, `${path} profiled through DuckDB`).not.toBeNull();
  const rowWise = await profileFile(path, { format: formatOf(path) });
  expect(columnar).toEqual(rowWise);
  expect(JSON.stringify(columnar)).toBe(JSON.stringify(rowWise));
}

/** Generators of one CSV field each, by column: every way a value can be written. */
const FIELDS: Record<string, (r: () => number, i: number) => string> = {
  // Many spellings of few numbers: distinct texts of one number stay distinct (the mean's order).
  spellings: (r) =>
    ["1.5", "1.50", "+1.5", "01.5", "1", "1.0", "+1", "01", "-0", "0", "-0.0", "1e0", "15e-1"][Math.floor(r() * 13)]!,
  gauss: (r) =>
    r() < 0.02
      ? ["", "NA", "NaN", "nan", "None", "null", "#N/A"][Math.floor(r() * 7)]!
      : ((r() - 0.5) * 1e4).toPrecision(1 + Math.floor(r() * 9)),
  ints: (r) => (r() < 0.05 ? "" : String(Math.floor((r() - 0.5) * 1e6))),
  big: (r) =>
    r() < 0.5
      ? "12345678901234567890"
      : ["9007199254740993", "9007199254740992", "1e308", "2.5e-320"][Math.floor(r() * 4)]!,
  overflow: (r, i) => (i % 97 === 0 ? "1e400" : String(r())),
  codes: (r) => String(Math.floor(r() * 8)),
  bools: (r) => ["true", "False", "TRUE", "false", "N/A"][Math.floor(r() * 5)]!,
  mixed: (r) => ["1", "x", "true", "1.50", "2024-01-01", "", "inf", "-Infinity"][Math.floor(r() * 8)]!,
  when: (r, i) =>
    r() < 0.05
      ? "NULL"
      : new Date(Date.UTC(1969, 11, 31) + Math.floor((r() - 0.3) * 1e12)).toISOString().slice(0, i % 3 ? 19 : 10),
  badWhen: (r) => (r() < 0.1 ? "2024-13-01" : "2024-01-02T03:04:05+02:00"),
  label: (r) => ['"a,b"', "plain", '"say ""hi"""', '"two\nlines"', "None", "  padded "][Math.floor(r() * 6)]!,
  text: (r, i) => `row ${i} ${Math.floor(r() * 1e9)}`,
  missing: (r) => ["NA", "None", "", "null"][Math.floor(r() * 4)]!,
};

function csvText(seed: number, rows: number, names: string[], delimiter = ","): string {
  const r = mulberry32(seed);
  const lines = [names.join(delimiter)];
  for (let i = 0; i < rows; i++) lines.push(names.map((n) => FIELDS[n]!(r, i)).join(delimiter));
  const newline = seed % 2 ? "\r\n" : "\n";
  return lines.join(newline) + newline;
}

describe("profileColumnar equals the row-wise profile", () => {
  it("on CSV of every kind of value, in several seeds and column mixes", async () => {
    const names = Object.keys(FIELDS);
    for (let seed = 1; seed <= 6; seed++) {
      const r = mulberry32(seed * 31);
      const picked = names.filter(() => r() < 0.6);
      if (picked.length < 2) picked.push("gauss", "label");
      const path = join(dir, `mix-${seed}.csv`);
      await writeFile(path, (seed === 3 ? "\ufeff" : "") + csvText(seed, 50 + seed * 400, picked));
      await expectSameProfile(path);
    }
  });

  it("on TSV, on semicolons, and on files with only a header or no rows at all", async () => {
    await writeFile(join(dir, "t.tsv"), csvText(7, 500, ["gauss", "codes", "when"], "\t"));
    await expectSameProfile(join(dir, "t.tsv"));
    await writeFile(join(dir, "semi.csv"), "a;b\n1,5;x\n2,5;y\n");
    await expectSameProfile(join(dir, "semi.csv"));
    await writeFile(join(dir, "header.csv"), "a,b\n");
    await expectSameProfile(join(dir, "header.csv"));
    await writeFile(join(dir, "blank-lines.csv"), "a,b\n1,x\n\n\n2,y\n,\n");
    await expectSameProfile(join(dir, "blank-lines.csv"));
  });

  it("across chunk boundaries (more than 65 536 rows), with a chunk of missing values only", async () => {
    const r = mulberry32(11);
    const lines = ["x,y,z,w"];
    for (let i = 0; i < 140_000; i++) {
      const x = i >= 65_536 && i < 2 * 65_536 ? "NA" : (Math.floor(r() * 1000) / 8).toString();
      lines.push(`${x},${Math.floor(r() * 50)},${r() < 0.5 ? "a" : "b"},${i % 7 ? "1.5" : "1.50"}`);
    }
    await writeFile(join(dir, "chunks.csv"), lines.join("\n") + "\n");
    await expectSameProfile(join(dir, "chunks.csv"));
  });

  for (const file of ["seattle-weather.csv", "stocks.csv", "airports.csv", "github.csv", "la-riots.csv"]) {
    it(`on vega-datasets ${file}`, async () => {
      await expectSameProfile(join(VEGA_DATA, file));
    });
  }

  it("on Parquet of every kind it reads, over several row groups", async () => {
    const path = join(dir, "kinds.parquet");
    const engine = await openColumnarEngine();
    try {
      await engine.connection.run(`
        COPY (
          SELECT i::INTEGER AS small_int, (i * 1000003)::BIGINT AS big_int, (i % 200)::UTINYINT AS tiny,
                 i / 3 AS ratio, (i / 7)::FLOAT AS single,
                 CASE WHEN i % 9 = 0 THEN 'NaN'::DOUBLE WHEN i % 13 = 0 THEN 'inf'::DOUBLE
                      WHEN i % 11 = 0 THEN NULL ELSE i * 0.5 END AS halves,
                 i % 2 = 0 AS flag, CASE WHEN i % 5 = 0 THEN NULL ELSE i % 3 = 0 END AS maybe,
                 DATE '1960-01-01' + (i % 30000)::INTEGER AS day,
                 TIMESTAMP '1969-12-31 23:59:59' + to_microseconds(i * 1777) AS at,
                 (TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i))::TIMESTAMP_MS AS at_ms,
                 CASE WHEN i % 4 = 0 THEN '2024-02-0' || (i % 9 + 1) WHEN i % 4 = 1 THEN NULL
                      ELSE 'label ' || (i % 3) END AS mixed_text,
                 'n' || (i % 5) AS label, 'row ' || i AS text, NULL::DOUBLE AS nothing, '' AS empty
          FROM range(20000) r(i)
        ) TO ${sqlString(path)} (FORMAT parquet, ROW_GROUP_SIZE 4096)`);
    } finally {
      engine.close();
    }
    await expectSameProfile(path);
  });

  it("on the 3-million-row flights-3m.parquet's first row groups' worth of kinds", async () => {
    // flights-3m itself takes seconds row by row; a slice of it keeps its types and row-group shape.
    const path = join(dir, "flights.parquet");
    const engine = await openColumnarEngine();
    try {
      await engine.connection.run(
        `COPY (SELECT * FROM read_parquet(${sqlString(join(VEGA_DATA, "flights-3m.parquet"))}) LIMIT 100000)
         TO ${sqlString(path)} (FORMAT parquet, ROW_GROUP_SIZE 30000)`,
      );
    } finally {
      engine.close();
    }
    await expectSameProfile(path);
  });
});

describe("profileTabularFile", () => {
  it("leaves to the row-wise reader what DuckDB does not read as Tandem does, with the same profile", async () => {
    const path = join(dir, "decimal.parquet");
    const engine = await openColumnarEngine();
    try {
      await engine.connection.run(
        `COPY (SELECT (i / 7)::DECIMAL(10, 2) AS money, [i, i] AS pair FROM range(100) r(i)) TO ${sqlString(path)} (FORMAT parquet)`,
      );
    } finally {
      engine.close();
    }
    expect(await profileColumnar(path, "parquet")).toBeNull();
    expect(await profileTabularFile(path, { format: "parquet" })).toEqual(await profileFile(path));
    await writeFile(join(dir, "one.csv"), "a\n1\n\n2\n");
    expect(await profileColumnar(join(dir, "one.csv"), "csv")).toBeNull();
    await writeFile(join(dir, "t.jsonl"), '{"a": 1}\n{"a": "2024-01-01"}\n');
    expect(await profileTabularFile(join(dir, "t.jsonl"), { format: "jsonl" })).toEqual(
      await profileFile(join(dir, "t.jsonl")),
    );
  });

  it("fails on a broken file as the row-wise reader does, naming file, row and line", async () => {
    const cases: Record<string, string> = {
      "ragged.csv": "a,b\n1,2\n3\n4,5\n",
      "long.csv": "a,b\n1,2\n3,4,5\n",
      "quote.csv": 'a,b\n1,"open\n2,3\n',
      "empty.csv": "",
      "stray-quote.csv": 'a,b\n1,x"y\n2,z\n',
      // Line breaks that change kind: csv-parse takes the first one as the record delimiter.
      "endings.csv": "a,b\r\n1,2\r\n3,4\n5,6\n",
    };
    for (const [name, text] of Object.entries(cases)) {
      const path = join(dir, name);
      await writeFile(path, text);
      const rowWise = await profileFile(path, { label: name }).then(
        (p) => ({ ok: p }),
        (e: Error) => ({ error: e.message }),
      );
      const either = await profileTabularFile(path, { label: name, format: "csv" }).then(
        (p) => ({ ok: p }),
        (e: Error) => ({ error: e.message }),
      );
      expect(either, name).toEqual(rowWise);
    }
  });
});
