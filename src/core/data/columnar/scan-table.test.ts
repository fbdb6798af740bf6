/**
 * The columnar scan must give exactly what the row-wise loader gives (issue 18: drift and profile
 * results must not move): same columns, same types, same values — on tricky CSV text, on the vega
 * datasets' real files and on Parquet written with every kind the Data area knows.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTableRowWise } from "../../monitoring/table-load.js";
import { openColumnarEngine, sqlString } from "./engine.js";
import { scanTable } from "./scan-table.js";

const vega = createRequire(import.meta.url).resolve("vega-datasets");
const VEGA_DATA = join(vega.slice(0, vega.lastIndexOf("vega-datasets") + "vega-datasets".length), "data");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tandem-columnar-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Values as plain arrays, NaN (a typed column's missing value) as null. */
function plain(table: Record<string, ArrayLike<unknown>>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [name, values] of Object.entries(table)) {
    out[name] = Array.from(values as ArrayLike<unknown>, (v) => (typeof v === "number" && Number.isNaN(v) ? null : v));
  }
  return out;
}

async function expectSameAsRowWise(path: string): Promise<void> {
  const scanned = await scanTable(path, path.endsWith(".parquet") ? "parquet" : "csv");
  expect(scanned, `${path} read by DuckDB`).not.toBeNull();
  const rowWise = await loadTableRowWise(path);
  expect(scanned!.rows).toBe(rowWise.rows);
  expect(scanned!.types).toEqual(rowWise.types);
  expect(Object.keys(scanned!.table)).toEqual(Object.keys(rowWise.table));
  expect(plain(scanned!.table)).toEqual(plain(rowWise.table));
}

describe("scanTable agrees with the row-wise loader", () => {
  it("on CSV text where typing is subtle", async () => {
    const header = "int,float,odd numbers,bools,mixed,when,bad when,label,text,codes,empty,,int,none ints,all missing";
    const rows: string[] = [];
    for (let i = 0; i < 300; i++) {
      const odd = ["+5", ".5", "5.", "1e5", "-0", "1E+05", "NA", "", "nan", "007"][i % 10];
      const when = i % 7 === 0 ? "NULL" : `2024-0${(i % 9) + 1}-1${i % 10}T0${i % 10}:30:00${i % 2 ? "Z" : "+02:00"}`;
      const bad = i % 5 === 0 ? "2024-13-01" : "2024-01-02";
      const label = ['"a,b"', "plain", '"say ""hi"""', '"two\nlines"', "None"][i % 5];
      fields(rows, [
        String(i - 150),
        (i / 7).toFixed(4),
        odd!,
        ["true", "False", "TRUE", "N/A"][i % 4]!,
        ["1", "x", "true", "1.50", "2024-01-01"][i % 5]!,
        when,
        bad,
        label!,
        `text ${i}`,
        String(i % 4),
        "",
        i % 3 ? "b" : "c",
        String(i % 11),
        // "None" is a null token with an 'e' in it: these are integers, not floats.
        i % 3 === 0 ? "None" : String(i * 7),
        ["NA", "None", "", "null"][i % 4]!,
      ]);
    }
    await writeFile(join(dir, "subtle.csv"), `\ufeff${header}\r\n${rows.join("\r\n")}\r\n`);
    await expectSameAsRowWise(join(dir, "subtle.csv"));
  });

  it("on columns with more distinct texts than a dictionary holds", async () => {
    const rows = ["text,mixed,when,number"];
    for (let i = 0; i < 70_000; i++) {
      const when = i % 1000 === 0 ? "2024-13-01" : new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString();
      rows.push(
        [`label ${i}`, i % 2 ? String(i) : `x${i}`, i % 500 === 1 ? "NA" : when, i % 3 ? `${i}.5` : ""].join(","),
      );
    }
    await writeFile(join(dir, "wide.csv"), rows.join("\n") + "\n");
    await expectSameAsRowWise(join(dir, "wide.csv"));
  });

  it("on CSV whose numbers turn out not to be, or to be floats, after the rows csv-scan.ts samples", async () => {
    const header = "late text,late float,late e,late inf,spaces,hex,thousands,signs,late number,text then numbers,ints";
    const rows: string[] = [];
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const last = i === n - 1;
      fields(rows, [
        last ? "x" : String(i / 4),
        last ? "1.0" : String(i % 3),
        last ? "1e3" : String(i % 5),
        last ? "inf" : (i / 8).toFixed(3),
        i === 2500 ? " 5" : String(i),
        i === 2000 ? "0x10" : String(i % 7),
        i === 1500 ? '"1,000"' : String(i),
        ["-0", "+5", "-1.5", "+.5", "NaN", ""][i % 6]!,
        last ? "7" : ["NA", "", "None"][i % 3]!,
        i < 1200 ? `t${i % 3}` : String(i % 4),
        String(i % 9),
      ]);
    }
    await writeFile(join(dir, "late.csv"), `${header}\n${rows.join("\n")}\n`);
    await expectSameAsRowWise(join(dir, "late.csv"));
  });

  it("on label columns read as codes of their sampled texts, and those with texts the sample missed", async () => {
    // csv-scan.ts reads a column whose first 64 KiB show few texts as codes of those texts; a text
    // that only comes later (in either direction: a new label, a null token, a number, a padded or
    // differently cased label) must send the column down the table path with the same result.
    const header = "label,late label,late null,late number,bools,late bool,dates,padded,quoted,codes,only nulls,num";
    const rows: string[] = [];
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const late = i > 3000;
      fields(rows, [
        ["red", "green", "blue", "NA", ""][i % 5]!,
        late && i % 50 === 0 ? "purple" : ["red", "green"][i % 2]!,
        late && i % 70 === 0 ? "None" : ["a", "b"][i % 2]!,
        late && i % 90 === 0 ? "7" : ["x", "y"][i % 2]!,
        ["true", "False", "TRUE", ""][i % 4]!,
        late && i % 60 === 0 ? "maybe" : ["true", "false"][i % 2]!,
        ["2024-01-02", "2024-13-01", "2023-05-06T07:08:09Z", "NULL"][i % 4]!,
        late && i % 40 === 0 ? ["red ", " red", "Red"][i % 3]! : "red",
        ['"a,b"', '"say ""hi"""', '"two\nlines"', '""'][i % 4]!,
        ["1", "2", "007", "x", "1.50"][i % 5]!,
        late ? ["NA", "q"][i % 2]! : "NA",
        String(i % 13),
      ]);
    }
    await writeFile(join(dir, "labels.csv"), `${header}\n${rows.join("\n")}\n`);
    await expectSameAsRowWise(join(dir, "labels.csv"));
  });

  it("on semicolon-separated text and a file with only a header", async () => {
    await writeFile(join(dir, "semi.csv"), "a;b\n1,5;x\n2,5;y\n");
    await expectSameAsRowWise(join(dir, "semi.csv"));
    await writeFile(join(dir, "header.csv"), "a,b\n");
    await expectSameAsRowWise(join(dir, "header.csv"));
  });

  for (const file of ["seattle-weather.csv", "stocks.csv", "airports.csv", "github.csv", "la-riots.csv"]) {
    it(`on vega-datasets ${file}`, async () => {
      await expectSameAsRowWise(join(VEGA_DATA, file));
    });
  }

  it("on Parquet with integer, float, decimal, bool, date, timestamp, string and all-null columns", async () => {
    const path = join(dir, "kinds.parquet");
    const engine = await openColumnarEngine();
    try {
      await engine.connection.run(`
        COPY (
          SELECT i::INTEGER AS small_int, (i * 1000003)::BIGINT AS big_int, i / 3 AS ratio,
                 CASE WHEN i % 9 = 0 THEN 'NaN'::DOUBLE WHEN i % 11 = 0 THEN NULL ELSE i * 0.5 END AS halves,
                 (i / 7)::DECIMAL(10, 2) AS money, i % 2 = 0 AS flag, DATE '2024-01-01' + (i % 30)::INTEGER AS day,
                 TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i * 61) AS at,
                 CASE WHEN i % 4 = 0 THEN '2024-02-0' || (i % 9 + 1) ELSE 'label ' || (i % 3) END AS mixed_text,
                 'n' || (i % 5) AS label, NULL::DOUBLE AS nothing, (i % 6)::SMALLINT AS code
          FROM range(500) r(i)
        ) TO ${sqlString(path)} (FORMAT parquet)`);
    } finally {
      engine.close();
    }
    await expectSameAsRowWise(path);
  });

  it("leaves JSON Lines and one-column CSV to the row-wise readers", async () => {
    await writeFile(join(dir, "one.csv"), "a\n1\n\n2\n");
    expect(await scanTable(join(dir, "one.csv"), "csv")).toBeNull();
    await writeFile(join(dir, "t.jsonl"), '{"a": 1}\n');
    expect(await scanTable(join(dir, "t.jsonl"), "jsonl")).toBeNull();
  });
});

function fields(rows: string[], values: string[]): void {
  rows.push(values.join(","));
}
