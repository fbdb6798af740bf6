import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { columnOf } from "../profile/accessors.js";
import { openTable, profileFile, TabularFileError } from "./index.js";

const vega = createRequire(import.meta.url).resolve("vega-datasets");
const FLIGHTS = join(
  vega.slice(0, vega.lastIndexOf("vega-datasets") + "vega-datasets".length),
  "data/flights-3m.parquet",
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tandem-readers-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<TabularFileError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TabularFileError);
  return error as TabularFileError;
}

describe("CSV", () => {
  it("streams chunks and infers kinds from text; sniffs ';'", async () => {
    const rows = Array.from(
      { length: 1000 },
      (_, i) => `${i};${(i / 7).toFixed(3)};"${i % 3 ? "a" : "b;c"}";2024-02-${String((i % 28) + 1).padStart(2, "0")}`,
    );
    const path = await write("t.csv", `id;x;label;day\n${rows.join("\n")}\n`);
    const reader = await openTable(path, { chunkRows: 300 });
    const sizes: number[] = [];
    for await (const chunk of reader.chunks()) sizes.push(chunk.rows);
    expect(sizes).toEqual([300, 300, 300, 100]);
    const p = await profileFile(path);
    expect(p.rowCount).toBe(1000);
    expect(p.columns.map((c) => [c.name, c.kind, c.type])).toEqual([
      ["id", "integer", "numeric"],
      ["x", "float", "numeric"],
      ["label", "string", "categorical"],
      ["day", "datetime", "datetime"],
    ]);
    expect(columnOf(p, "label").frequent[1]).toEqual({ value: "b;c", count: 334 });
  });

  it("names file, row and line of a ragged row", async () => {
    const path = await write("ragged.csv", "a,b,c\n1,2,3\n4,5\n");
    const e = await failure(profileFile(path, { label: "data/ragged.csv" }));
    expect(e.message).toBe("data/ragged.csv (row 2, line 3): ragged row: expected 3 fields as in the header, found 2");
    expect(e.details).toMatchObject({ file: "data/ragged.csv", row: 2, line: 3 });
  });

  it("names the row of a truncated file (unclosed quote)", async () => {
    const path = await write("cut.csv", 'a,b\n1,"x"\n2,"unfinished\n');
    const e = await failure(profileFile(path));
    expect(e.message).toMatch(/cut\.csv \(row 2, line 3\): a quoted field is never closed \(is the file truncated\?\)/);
  });

  it("says when a path cannot be read", async () => {
    await mkdir(join(dir, "folder.csv"));
    const e = await failure(profileFile(join(dir, "folder.csv"), { label: "folder.csv" }));
    expect(e.message).toBe("folder.csv: cannot be read: is a directory, not a file");
    const missing = await failure(profileFile(join(dir, "nope.csv"), { label: "nope.csv" }));
    expect(missing.message).toBe("nope.csv: cannot be read: no such file");
  });
});

describe("JSON Lines", () => {
  it("unions keys, keeps types, treats late keys as missing before", async () => {
    const lines = ['{"a": 1, "s": "x"}', "", '{"a": 2.5, "s": "y", "late": true}', '{"a": null, "nested": {"k": [1]}}'];
    const p = await profileFile(await write("t.jsonl", lines.join("\n") + "\n"));
    expect(p.rowCount).toBe(3);
    expect(p.columns.map((c) => [c.name, c.kind, c.count, c.nullCount])).toEqual([
      ["a", "float", 3, 1],
      ["s", "string", 3, 1],
      ["late", "bool", 3, 2],
      ["nested", "string", 3, 2],
    ]);
  });

  it("hands over each key's values in its column, whatever order and set of keys each line has", async () => {
    const objects: Array<Record<string, unknown>> = [
      { a: 1, b: "x" },
      { a: 2, b: "y" },
      { b: "z", a: 3 },
      { b: "v", a: 4 },
      { a: 5, b: null, c: [1] },
      { c: 2, "7": "index", a: 6 },
      JSON.parse('{"__proto__": 1, "a": 7}') as Record<string, unknown>,
      { a: 8 },
    ];
    const path = await write("keys.jsonl", objects.map((o) => JSON.stringify(o)).join("\n") + "\n");
    const chunks = [];
    for await (const chunk of (await openTable(path, { chunkRows: 3 })).chunks()) chunks.push(chunk);
    // Each value where Object.entries of its line puts it, missing (undefined) elsewhere.
    const names: string[] = [];
    for (const o of objects) for (const key of Object.keys(o)) if (!names.includes(key)) names.push(key);
    expect(chunks.map((c) => c.rows)).toEqual([3, 3, 2]);
    for (const [i, chunk] of chunks.entries()) {
      const rows = objects.slice(i * 3, i * 3 + 3);
      const seen = names.filter((n) => objects.slice(0, i * 3 + 3).some((o) => Object.keys(o).includes(n)));
      expect(chunk.names).toEqual(seen);
      for (const name of seen)
        expect(Array.from(chunk.columns[name]!), `${name} in chunk ${i}`).toEqual(
          rows.map((o) => (Object.keys(o).includes(name) ? o[name] : undefined)),
        );
    }
  });

  it("names the line of invalid JSON and says a cut last line looks truncated", async () => {
    const e = await failure(
      profileFile(await write("cut.jsonl", '{"a": 1}\n{"a": 2}\n{"a": '), { label: "cut.jsonl" }),
    );
    expect(e.message).toMatch(
      /^cut\.jsonl \(row 3, line 3\): invalid JSON: .* the last line has no newline: is the file truncated\?$/,
    );
    const arr = await failure(profileFile(await write("arr.jsonl", '{"a": 1}\n[1, 2]\n'), { label: "arr.jsonl" }));
    expect(arr.message).toBe("arr.jsonl (row 2, line 2): expected a JSON object per line, found an array");
  });
});

describe("Parquet", () => {
  it("refuses a file that is not Parquet, and a truncated one", async () => {
    const fake = await failure(profileFile(await write("fake.parquet", "a,b\n1,2\n3,4\n"), { label: "fake.parquet" }));
    expect(fake.message).toBe("fake.parquet: is not a Parquet file: it does not start with the magic bytes PAR1");
    const full = await readFile(FLIGHTS);
    const cut = await failure(
      profileFile(await write("cut.parquet", full.subarray(0, 1_000_000)), { label: "cut.parquet" }),
    );
    expect(cut.message).toBe("cut.parquet: is not a complete Parquet file: it does not end with PAR1 (truncated?)");
  });

  it("names the rows and column of a corrupt row group", async () => {
    const path = join(dir, "corrupt.parquet");
    await copyFile(FLIGHTS, path);
    const handle = await open(path, "r+");
    await handle.write(Buffer.alloc(64, 0xff), 0, 64, 4); // the first page header of the first column chunk
    await handle.close();
    const e = await failure(profileFile(path, { label: "corrupt.parquet" }));
    expect(e.message).toMatch(/^corrupt\.parquet \(row 1\): column "\w+", rows 1–272727: cannot be decoded: /);
  });

  it("profiles flights-3m: kinds from the schema, timestamps as datetimes", async () => {
    const p = await profileFile(FLIGHTS);
    expect(p.rowCount).toBe(3_000_000);
    expect(p.columns.map((c) => [c.name, c.kind, c.type])).toEqual([
      ["date", "datetime", "datetime"],
      ["delay", "integer", "numeric"],
      ["distance", "integer", "numeric"],
      ["origin", "string", "categorical"],
      ["destination", "string", "categorical"],
    ]);
    const date = columnOf(p, "date");
    expect(new Date(date.min!).toISOString()).toBe("2001-01-01T00:01:00.000Z");
    expect(columnOf(p, "origin").frequent[0]).toEqual({ value: "ORD", count: 166_341 });
    expect(columnOf(p, "delay").mean).toBeCloseTo(6.667867666666667, 9);
  });
});
