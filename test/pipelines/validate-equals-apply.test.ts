/**
 * One set of checks (issue 23): every spec `tandem apply` refuses (test/fixtures/apply-errors) is
 * refused by `tandem validate` with the same file:line:column lines, and apply stores nothing.
 * On SQLite and Postgres over HTTP, and once through the CLI for the guide's `latency: {}` case.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/apply-errors");
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith(".yaml"));
const BIN = join(import.meta.dirname, "../../bin/tandem.js");

interface Issue {
  file: string;
  line: number;
  column: number;
  field: string;
  message: string;
}
const line = (i: Issue) => `${i.file}:${i.line}:${i.column}: ${i.field}: ${i.message}`;

for (const kind of STORE_KINDS) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`validate runs apply's checks [${kind}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ store: kind });
    });
    afterAll(async () => {
      await t?.stop();
    });

    it.each(fixtures)("%s: validate and apply refuse it with the same lines", async (name) => {
      const body = { source: readFileSync(join(FIXTURES, name), "utf8"), file: name };
      const checked = await t.api<{ valid: boolean; issues: Issue[] }>(
        "POST",
        "/api/v1/projects/default/specs/validate",
        body,
      );
      expect(checked.status).toBe(200);
      expect(checked.body.valid).toBe(false);
      expect(checked.body.issues.length).toBeGreaterThan(0);

      const applied = await t.api<{ error: { code: string; message: string; details?: { issues?: Issue[] } } }>(
        "POST",
        "/api/v1/projects/default/specs",
        body,
      );
      // An address the outbound guard refuses is a refusal for safety (403); the rest are spec errors.
      expect(applied.status).toBe(name.startsWith("llm-upstream") ? 403 : 400);
      expect(applied.body.error.message.split("\n")).toEqual(checked.body.issues.map(line));
      expect(applied.body.error.details?.issues?.map(line)).toEqual(checked.body.issues.map(line));
      // Refused before anything was stored: no spec version, no monitors.
      expect((await t.api("GET", "/api/v1/projects/default/specs/latest")).status).toBe(404);
    });

    it("names the real index of the check (checks[5], not the guide's checks[3])", async () => {
      const source = readFileSync(join(FIXTURES, "monitor-latency-without-p95.yaml"), "utf8");
      const checked = await t.api<{ issues: Issue[] }>("POST", "/api/v1/projects/default/specs/validate", {
        source,
        file: "tandem.yaml",
      });
      expect(checked.body.issues.map(line)).toEqual([
        "tandem.yaml:11:18: monitors.flights-drift.checks[5].latency.p95_ms: required (the SLO, in milliseconds)",
      ]);
    });
  });
}

describe("tandem validate and tandem apply print the same problems", () => {
  it("for a monitor whose latency check lacks p95_ms: the same stderr, exit 2 from both", () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-validate-"));
    try {
      writeFileSync(join(dir, "tandem.yaml"), readFileSync(join(FIXTURES, "monitor-latency-without-p95.yaml")));
      const env = { ...process.env, TANDEM_HOME: join(dir, ".tandem"), TANDEM_URL: "", NO_COLOR: "1" };
      const cli = (command: string) => spawnSync(process.execPath, [BIN, command], { cwd: dir, env, encoding: "utf8" });
      const validate = cli("validate");
      const apply = cli("apply");
      expect(validate.status).toBe(2);
      expect(apply.status).toBe(2);
      expect(validate.stderr).toContain("tandem.yaml:11:18: monitors.flights-drift.checks[5].latency.p95_ms: required");
      expect(apply.stderr).toBe(validate.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
