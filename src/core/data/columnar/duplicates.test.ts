/**
 * The columnar duplicate count must equal the row-wise one (what the `unique` expectation counted
 * before, file by file through the readers): CSV text, empty fields left out, quoted fields, values
 * across files, a file without the column; typed files are left to the row-wise check.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTable } from "../readers/index.js";
import type { TabularFormat } from "../readers/types.js";
import { countDuplicatesColumnar, DuplicateTally, type DuplicatesInput } from "./duplicates.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tandem-duplicates-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The row-wise count DataService falls back to, over the same files. */
async function rowWise(files: DuplicatesInput[], column: string): Promise<number> {
  const tally = new DuplicateTally();
  for (const f of files) await tally.add(await openTable(f.path, { format: f.format }), column);
  return tally.duplicates;
}

async function file(name: string, text: string, format: TabularFormat = "csv"): Promise<DuplicatesInput> {
  await writeFile(join(dir, name), text);
  return { path: join(dir, name), format };
}

describe("countDuplicatesColumnar", () => {
  it("counts what the row-wise check counts, over several files", async () => {
    const rows = ["id,label,note"];
    for (let i = 0; i < 3000; i++) {
      const id = i % 7 === 0 ? "" : i % 11 === 0 ? `${i - 1}` : String(i);
      const label = ['"a,b"', "x", '"two\nlines"', "X", " x", "NA", '""'][i % 7]!;
      rows.push(`${id},${label},${i % 3 ? "n" : ""}`);
    }
    const a = await file("a.csv", rows.join("\n") + "\n");
    const b = await file(
      "b.csv",
      "label,id\nx,5\nx,\n,12\n" + Array.from({ length: 1200 }, (_, i) => `y${i},${i * 2}`).join("\n") + "\n",
    );
    const c = await file("c.tsv", "other\tfield\n1\t2\n1\t2\n", "tsv");
    for (const column of ["id", "label", "note", "missing"]) {
      const files = [a, b, c];
      expect(await countDuplicatesColumnar(files, column), column).toBe(await rowWise(files, column));
    }
    expect(await countDuplicatesColumnar([a, b, c], "id")).toBeGreaterThan(0);
  });

  it("leaves typed files to the row-wise check", async () => {
    const a = await file("t.jsonl", '{"id": 1}\n{"id": 1}\n', "jsonl");
    expect(await countDuplicatesColumnar([a], "id")).toBeNull();
  });
});
