/**
 * `tandem data query NAME@V "SELECT …"` and its route, against a real server on SQLite and Postgres:
 * answers over the version's files, the row limit, and the box around the user's SQL — a writing
 * statement, read_text of the server's admin token, ATTACH and COPY … TO are all refused with errors
 * that name the SQL, and a project's viewer may query while a stranger may not.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

const BIN = join(process.cwd(), "bin", "tandem.js");

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

function shopFiles(): string {
  const dir = mkdtempSync(join(tmpdir(), "tandem-query-data-"));
  const rows = Array.from({ length: 250 }, (_, i) => `${i},${(i * 1.5).toFixed(1)},s${i % 4}`);
  writeFileSync(join(dir, "sales.csv"), `id,amount,shop\n${rows.join("\n")}\n`);
  const events = Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: i, ok: i % 3 === 0 }));
  writeFileSync(join(dir, "events.jsonl"), `${events.join("\n")}\n`);
  writeFileSync(join(dir, "README.md"), "# not a table\n");
  return dir;
}

for (const kind of STORE_KINDS) {
  (kind === "postgres" && !postgresAvailable() ? describe.skip : describe)(
    `tandem data query [${kind}]`,
    { timeout: 600_000 },
    () => {
      let server: TestServer;
      let env: Record<string, string>;
      const query = (sql: string, ...more: string[]) =>
        tandem(["data", "query", "shop@1", sql, "--project", "q", ...more], env);
      beforeAll(async () => {
        server = await startTestServer({ store: kind });
        env = {
          TANDEM_URL: server.url,
          TANDEM_TOKEN: server.adminToken,
          TANDEM_HOME: mkdtempSync(join(tmpdir(), "tandem-client-")),
        };
        const added = await tandem(["data", "add", shopFiles(), "--name", "shop", "--project", "q", "--json"], env);
        expect(added.code, added.stderr).toBe(0);
      }, 300_000);
      afterAll(async () => server?.stop());

      it("answers over each file's view and over `dataset`, with a row limit", async () => {
        const counted = await query(
          "SELECT shop, count(*) AS n, sum(amount) AS total FROM sales GROUP BY shop ORDER BY shop",
          "--json",
        );
        expect(counted.code, counted.stderr).toBe(0);
        const body = JSON.parse(counted.stdout);
        expect(body.dataset).toBe("shop@1");
        expect(body.views).toEqual([
          { name: "dataset", file: null },
          { name: "events", file: "events.jsonl" },
          { name: "sales", file: "sales.csv" },
        ]);
        expect(body.columns.map((c: { name: string }) => c.name)).toEqual(["shop", "n", "total"]);
        expect(body.rows[0]).toEqual(["s0", "63", 11718]);
        expect(body.truncated).toBe(false);

        const limited = JSON.parse((await query("SELECT * FROM sales ORDER BY id", "--limit", "7", "--json")).stdout);
        expect(limited.rows).toHaveLength(7);
        expect(limited).toMatchObject({ truncated: true, limit: 7 });
        // The server caps what a caller may ask, whatever the client sends.
        const tooMany = await server.api("POST", "/api/v1/projects/q/datasets/shop/versions/1/query", {
          sql: "SELECT * FROM range(100000)",
          limit: 1_000_000,
        });
        expect(tooMany.status).toBe(400);
        const table = await query("SELECT count(*) AS n FROM dataset");
        expect(table.code, table.stderr).toBe(0);
        expect(table.stdout).toMatch(/^N\s*\n280\s*$/m);
      });

      it("refuses statements that write, with an error naming the SQL", async () => {
        for (const sql of [
          "CREATE TABLE stolen AS SELECT * FROM sales",
          "INSERT INTO sales VALUES (1, 2, 'x')",
          "DROP VIEW sales",
          "SET enable_external_access = true",
          "SELECT 1; DROP VIEW sales",
        ]) {
          const r = await query(sql);
          expect(r.code, sql).toBe(2);
          expect(r.stderr, sql).toContain(JSON.stringify(sql).slice(1, 20));
          expect(r.stderr, sql).toMatch(/only SELECT is allowed|expected one SELECT statement/);
          expect(r.stderr, sql).not.toMatch(/\n\s+at /); // no stack trace
        }
      });

      it("cannot reach the server's files: read_text of admin.token, ATTACH, COPY … TO, INSTALL", async () => {
        const token = join(server.home, "admin.token");
        const attempts: Array<[string, RegExp]> = [
          [`SELECT * FROM read_text('${token}')`, /only this version's files/],
          [`SELECT * FROM read_csv('${token}')`, /only this version's files/],
          [`SELECT * FROM glob('${server.home}/*')`, /only this version's files/],
          [`ATTACH '${join(server.home, "x.duckdb")}' AS x`, /only SELECT is allowed.*not ATTACH/],
          [`COPY (SELECT * FROM sales) TO '${join(server.home, "out.csv")}'`, /only SELECT is allowed.*not COPY/],
          ["INSTALL httpfs", /only SELECT is allowed/],
        ];
        for (const [sql, why] of attempts) {
          const r = await query(sql, "--json");
          expect(r.code, sql).toBe(2);
          expect(r.stderr, sql).toMatch(why);
          expect(r.stdout + r.stderr).not.toContain(server.adminToken);
        }
      });

      it("never shows where the server keeps the files: DuckDB's catalog and settings are refused", async () => {
        // Each of these answered before: the views' SQL names the stored files, the settings list
        // allowed_paths and the process's home.
        for (const sql of [
          "SELECT sql FROM duckdb_views()",
          "SELECT value FROM duckdb_settings() WHERE name = 'allowed_paths'",
          "SELECT current_setting('allowed_paths')",
          "SELECT view_definition FROM information_schema.views",
          "SELECT * FROM sales WHERE shop IN (SELECT name FROM pragma_database_list)",
          "SELECT * FROM DuckDB_Views",
        ]) {
          const r = await query(sql, "--json");
          expect(r.code, sql).toBe(2);
          expect(r.stderr, sql).toMatch(/is refused: \S+ is DuckDB's own catalog or settings/);
          expect(r.stdout + r.stderr, sql).not.toContain(server.home);
        }
      });

      it("names the bad SQL and DuckDB's reason", async () => {
        const typo = await query("SELEC * FROM sales");
        expect(typo.code).toBe(2);
        expect(typo.stderr).toContain(
          'query "SELEC * FROM sales" failed: Parser Error: syntax error at or near "SELEC"',
        );
        const noColumn = await query("SELECT nope FROM sales");
        expect(noColumn.stderr).toMatch(/query "SELECT nope FROM sales" failed: Binder Error: .*nope/);
      });

      it("lets a viewer of the project query, not a stranger (the UI preview's route)", async () => {
        expect((await server.api("POST", "/api/v1/users", { name: "vera" })).status).toBe(201);
        expect((await server.api("POST", "/api/v1/users", { name: "stan" })).status).toBe(201);
        expect((await server.api("PUT", "/api/v1/projects/q/members/vera", { role: "viewer" })).status).toBe(200);
        const tokenOf = async (user: string) =>
          (await server.api<{ token: string }>("POST", "/api/v1/tokens", { name: "t", user })).body.token;
        const route = "/api/v1/projects/q/datasets/shop/versions/latest/query";
        const body = { sql: "SELECT count(*) AS n FROM events WHERE ok", limit: 5 };
        const viewer = await server.api<{ rows: unknown[][] }>("POST", route, body, await tokenOf("vera"));
        expect(viewer.status).toBe(200);
        expect(viewer.body.rows).toEqual([["10"]]);
        const stranger = await server.api("POST", route, body, await tokenOf("stan"));
        expect([403, 404]).toContain(stranger.status);
        const refused = await server.api<{ error: { code: string; message: string } }>(
          "POST",
          route,
          { sql: "COPY sales TO '/tmp/x.csv'" },
          await tokenOf("vera"),
        );
        expect(refused.status).toBe(400);
        expect(refused.body.error.message).toContain("only SELECT is allowed");
      });
    },
  );
}
