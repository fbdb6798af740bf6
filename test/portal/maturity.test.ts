/**
 * Maturity over a real server, on SQLite and Postgres: the grader reads the records runs actually
 * left (a push webhook's CI run, a scheduled pipeline's spec), and `tandem maturity` prints the answer
 * and exits 0 at level 0.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maturityWire } from "../../src/server/routes/maturity.js";
import { pushGradeProject } from "../helpers/pushed-project.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, type StoreKind } from "../helpers/stores.js";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/tandem.js");
const SECRET = "maturity-hook-secret";

const stores: StoreKind[] = postgresAvailable() ? ["sqlite", "postgres"] : ["sqlite"];

describe.each(stores)("maturity from stored records (%s)", (store) => {
  let t: TestServer;
  let runId: string;
  let commit: string;

  beforeAll(async () => {
    t = await startTestServer({ store });
    ({ runId, commit } = await pushGradeProject(t, SECRET));
  });
  afterAll(async () => t?.stop());

  it("grades the push's CI run, the spec's triggers and the two-step runs; the rest fails with a next step", async () => {
    const res = await t.api("GET", "/api/v1/projects/grade/maturity");
    expect(res.status).toBe(200);
    const m = maturityWire.parse(res.body);
    const c = (id: string) => m.criteria.find((x) => x.id === id)!;
    expect(c("pipeline_ci").passed).toBe(true);
    expect(c("pipeline_ci").evidence).toEqual([
      {
        kind: "run",
        id: runId,
        href: `/p/grade/pipeline-runs/${runId}`,
        note: `ci at ${commit.slice(0, 8)} ran its tests on a push`,
      },
    ]);
    expect(c("orchestrated_pipeline").evidence.map((e) => e.id)).toEqual([runId]);
    expect(c("non_manual_trigger").evidence.map((e) => e.note)).toEqual([
      "ci: git (spec v1)",
      "train: schedule (spec v1)",
    ]);
    // No training has run, no model, no deployment: level 0, with the next steps to take.
    for (const id of ["continuous_training", "data_validation_gate", "model_cd", "monitoring_loop"]) {
      expect(c(id).passed, id).toBe(false);
      expect(c(id).next_step, id).toMatch(/\w/);
    }
    expect(m.level).toBe(0);
    expect([m.passed, m.total]).toEqual([3, 11]);
    expect(m.signs.map((s) => s.id)).toEqual(["no_recent_release"]);
  });

  it("tandem maturity prints the level and its criteria, and exits 0 at level 0", async () => {
    // Asynchronous: the server answers from this process, so a synchronous spawn would wait on itself.
    const env = { ...process.env, TANDEM_URL: t.url, TANDEM_TOKEN: t.adminToken, NO_COLOR: "1" };
    const tandem = (...args: string[]) => run(process.execPath, [BIN, ...args], { env, encoding: "utf8" });
    const text = await tandem("maturity", "--project", "grade");
    expect(text.stdout).toContain("maturity: level 0 (3/11 criteria) — project grade");
    expect(text.stdout).toContain("✓ Pipeline CI: a git-triggered run of the pipeline code with its tests");
    expect(text.stdout).toContain("next: Add a schedule:, data: or alert: trigger");
    const json = await tandem("maturity", "--project", "grade", "--json");
    expect(maturityWire.parse(JSON.parse(json.stdout)).level).toBe(0);
  });

  it("a project with nothing recorded is level 0 with every criterion failed, not an error", async () => {
    const res = await t.api("GET", "/api/v1/projects/empty/maturity");
    expect(res.status).toBe(200);
    const m = maturityWire.parse(res.body);
    expect([m.level, m.passed]).toEqual([0, 0]);
  });
});
