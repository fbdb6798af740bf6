/**
 * `tandem data` as a user runs it: a real CLI process, embedded (SQLite, in-process API) and against
 * a real server ($TANDEM_URL, SQLite and PostgreSQL), on a directory tree and on flights-3m.parquet.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, readdirSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const BIN = join(process.cwd(), "bin", "tandem.js");
const vega = createRequire(import.meta.url).resolve("vega-datasets");
const FLIGHTS = join(
  vega.slice(0, vega.lastIndexOf("vega-datasets") + "vega-datasets".length),
  "data/flights-3m.parquet",
);

function tandem(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, TANDEM_URL: "", TANDEM_TOKEN: "", TANDEM_PROJECT: "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), "tandem-tree-"));
  mkdirSync(join(dir, "raw", "2024"), { recursive: true });
  writeFileSync(
    join(dir, "raw", "2024", "jan.csv"),
    "day,amount,shop\n" +
      Array.from({ length: 50 }, (_, i) => `2024-01-${String((i % 28) + 1).padStart(2, "0")},${i * 3},s${i % 4}`).join(
        "\n",
      ) +
      "\n",
  );
  writeFileSync(
    join(dir, "raw", "events.jsonl"),
    Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: i, ok: i % 2 === 0 })).join("\n") + "\n",
  );
  writeFileSync(join(dir, "README.md"), "# sales\n");
  // Files changed in the last 2 s are never stat-cached (a same-second edit could go unseen); these
  // were "written a minute ago", so the re-add below is served by the stat cache on a fast machine too.
  const aMinuteAgo = new Date(Date.now() - 60_000);
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) utimesSync(join(f.parentPath, f.name), aMinuteAgo, aMinuteAgo);
  }
  return dir;
}

// Each step spawns a CLI process (~1-2 s each, far more on a loaded machine).
describe("tandem data (embedded)", { timeout: 300_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), "tandem-data-cli-"));
  const env = { TANDEM_HOME: home };
  const dir = tree();

  it("adds a tree, answers with the same version when nothing changed, and lists it", async () => {
    const first = await tandem(["data", "add", dir, "--name", "sales", "--json"], env);
    expect(first.code).toBe(0);
    const v1 = JSON.parse(first.stdout);
    expect(v1).toMatchObject({ created: true, version: { name: "sales", version: 1, kind: "dir", file_count: 3 } });
    expect(v1.version.id).toBe(`sales@sha256:${v1.version.manifest_sha256}`);
    const again = JSON.parse((await tandem(["data", "add", dir, "--name", "sales", "--json"], env)).stdout);
    expect(again).toMatchObject({ created: false, version: { version: 1 }, uploaded: { files: 0 } });
  });

  it("answers a re-add only to a token the versions route answers, with the route's refusal otherwise", async () => {
    // The re-add reads the data service without building the HTTP app (api.embeddedRead): the same
    // checks apply. A token limited to another project has no role here.
    const created = await tandem(["tokens", "create", "--project", "elsewhere"], env);
    const token = created.stdout.trim();
    expect(token).not.toBe("");
    const refused = await tandem(["data", "add", dir, "--name", "sales", "--json"], { ...env, TANDEM_TOKEN: token });
    expect(refused).toMatchObject({ code: 3, stdout: "" });
    expect(refused.stderr).toBe("error: admin needs the viewer role in project default (has none)\n");
    const bogus = await tandem(["data", "add", dir, "--name", "sales", "--json"], { ...env, TANDEM_TOKEN: "bogus" });
    expect(bogus).toMatchObject({ code: 3, stderr: "error: the token is not valid\n" });
    const viewer = (await tandem(["tokens", "create", "--role", "viewer"], env)).stdout.trim();
    const answered = await tandem(["data", "add", dir, "--name", "sales", "--json"], { ...env, TANDEM_TOKEN: viewer });
    expect(JSON.parse(answered.stdout)).toMatchObject({ created: false, version: { version: 1 } });
  });

  it("diffs, tags, pulls verified, and validates with a table and exit 1", async () => {
    appendFileSync(join(dir, "raw", "2024", "jan.csv"), "2024-01-30,,s9\n");
    writeFileSync(join(dir, "notes.txt"), "new\n");
    const v2 = JSON.parse((await tandem(["data", "add", dir, "--name", "sales", "--json"], env)).stdout);
    expect(v2).toMatchObject({ created: true, version: { version: 2 }, uploaded: { files: 2 } });
    const diff = await tandem(["data", "diff", "sales@1", "sales@2", "--json"], env);
    const d = JSON.parse(diff.stdout).diff;
    expect(d.files.added.map((e: { path: string }) => e.path)).toEqual(["notes.txt"]);
    expect(d.files.changed.map((e: { path: string }) => e.path)).toEqual(["raw/2024/jan.csv"]);
    expect(d.stats.find((s: { column: string }) => s.column === "amount")).toMatchObject({
      rows_from: 50,
      rows_to: 51,
      moved: true,
    });
    // The wire says each side's column kind; the table prints a datetime's mean as `data show` does (ISO).
    const day = d.stats.find((s: { column: string }) => s.column === "day");
    expect(day).toMatchObject({ kind_from: "datetime", kind_to: "datetime" });
    const table = await tandem(["data", "diff", "sales@1", "sales@2", "--all"], env);
    const dayLine = table.stdout.split("\n").find((l) => /^raw\/2024\/jan\.csv\s+day\s/.test(l));
    expect(dayLine).toContain(` ${new Date(day.mean_from as number).toISOString()} `);
    expect(dayLine).toContain(` ${new Date(day.mean_to as number).toISOString()} `);
    expect((await tandem(["data", "tag", "sales@1", "golden"], env)).stdout).toBe("sales@golden → version 1\n");
    const dest = join(mkdtempSync(join(tmpdir(), "tandem-pull-")), "out");
    expect((await tandem(["data", "pull", "sales@golden", dest], env)).code).toBe(0);
    expect(readFileSync(join(dest, "raw", "2024", "jan.csv"), "utf8").split("\n")).toHaveLength(52);
    const expect_ = join(home, "expect.yaml");
    writeFileSync(
      expect_,
      "file: raw/2024/jan.csv\nrows: { min: 10 }\ncolumns:\n  amount: { not_null: true, min: 0 }\n  shop: { allowed: [s0, s1, s2, s3] }\n",
    );
    const bad = await tandem(["data", "validate", "sales@2", "--expect", expect_], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^RESULT\s+CHECK\s+COLUMN\s+EXPECTED\s+FOUND\n/);
    expect(bad.stdout).toMatch(/FAIL\s+not_null\s+amount\s+0 missing\s+1/);
    expect(bad.stdout).toMatch(/FAIL\s+allowed\s+shop\s+one of s0, s1, s2, s3\s+s9 \(1\)/);
    // The verdict counts the table's FAIL rows (issue 23: the guide's table had one more than its count).
    const failRows = bad.stdout.split("\n").filter((l) => l.startsWith("FAIL")).length;
    expect(bad.stdout).toContain(`INVALID (${failRows} checks failed`);
  });

  it("bad input: a ragged CSV is refused naming file and row; latest stays; unknown refs exit 4", async () => {
    writeFileSync(join(dir, "raw", "broken.csv"), "a,b\n1,2\n3\n");
    const res = await tandem(["data", "add", dir, "--name", "sales"], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      "error: raw/broken.csv (row 2, line 3): ragged row: expected 2 fields as in the header, found 1\n",
    );
    const latest = JSON.parse((await tandem(["data", "show", "sales@latest", "--json"], env)).stdout);
    expect(latest.version.version).toBe(2);
    expect((await tandem(["data", "show", "sales@7"], env)).code).toBe(4);
  });

  it("adds flights-3m.parquet and profiles it", async () => {
    const res = await tandem(["data", "add", FLIGHTS, "--name", "flights", "--json"], env);
    expect(res.code).toBe(0);
    const shown = JSON.parse((await tandem(["data", "show", "flights", "--json"], env)).stdout);
    const p = shown.profile.files["flights-3m.parquet"].profile;
    expect(p.row_count).toBe(3_000_000);
    expect(p.columns.map((c: { name: string; type: string }) => `${c.name}:${c.type}`)).toEqual([
      "date:datetime",
      "delay:numeric",
      "distance:numeric",
      "origin:categorical",
      "destination:categorical",
    ]);
  });
});

for (const kind of STORE_KINDS) {
  (kind === "postgres" && !postgresAvailable() ? describe.skip : describe)(
    `tandem data against a server [${kind}]`,
    () => {
      let server: TestServer;
      let env: Record<string, string>;
      beforeAll(async () => {
        server = await startTestServer({ store: kind });
        env = {
          TANDEM_URL: server.url,
          TANDEM_TOKEN: server.adminToken,
          TANDEM_HOME: mkdtempSync(join(tmpdir(), "tandem-client-")),
        };
      });
      afterAll(async () => server?.stop());

      it("uploads only the blobs the server lacks", async () => {
        const dir = tree();
        const first = JSON.parse(
          (await tandem(["data", "add", dir, "--name", "sales", "--json", "--project", "shop"], env)).stdout,
        );
        expect(first).toMatchObject({ created: true, uploaded: { files: 3 } });
        writeFileSync(join(dir, "extra.txt"), "x\n");
        // A fresh client (no stat cache) hashes everything but sends only the new file.
        const second = JSON.parse(
          (
            await tandem(["data", "add", dir, "--name", "sales", "--json", "--project", "shop"], {
              ...env,
              TANDEM_HOME: mkdtempSync(join(tmpdir(), "tandem-client-")),
            })
          ).stdout,
        );
        expect(second).toMatchObject({ created: true, version: { version: 2, file_count: 4 }, uploaded: { files: 1 } });
        const dest = mkdtempSync(join(tmpdir(), "tandem-pull-"));
        expect((await tandem(["data", "pull", "sales@2", dest, "--project", "shop"], env)).code).toBe(0);
        expect(readFileSync(join(dest, "extra.txt"), "utf8")).toBe("x\n");
        const events = await server.api<{ events: Array<{ name: string; version: number }> }>(
          "GET",
          "/api/v1/projects/shop/dataset-events",
        );
        expect(events.body.events.map((e) => e.version)).toEqual([1, 2]);
      });
    },
  );
}
