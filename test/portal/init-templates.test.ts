/**
 * `tandem init` through the real binary: each template scaffolds a project that passes `tandem
 * validate` and whose main pipeline succeeds at once on the embedded default — SQLite, and the same
 * CLI on a fresh Postgres database — with no data add, no server and no approval. The classification
 * project's catalog export then passes @backstage/catalog-model. A non-empty folder is refused with
 * nothing overwritten.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Entity } from "@backstage/catalog-model";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { enforceEntityPolicies, expectValidBackstage, expectValidTemplate } from "../helpers/backstage.js";
import { cli } from "../pipelines/cli.js";
import { STORE_KINDS, freshDatabase, postgresAvailable } from "../helpers/stores.js";

interface RunJson {
  status: string;
  steps: Array<{ name: string; status: string }>;
}

/** Each test starts the CLI several times and runs a whole pipeline: minutes on a loaded 2-core machine. */
const SLOW_MS = 400_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function home(kind: "sqlite" | "postgres"): Promise<{ root: string; env: Record<string, string> }> {
  const root = mkdtempSync(join(tmpdir(), "tandem-init-"));
  const env: Record<string, string> = { TANDEM_HOME: join(root, "home"), TANDEM_CONCURRENCY: "2" };
  if (kind === "postgres") {
    const db = await freshDatabase("postgres");
    cleanups.push(db.cleanup);
    if (db.database.kind === "postgres") env.TANDEM_DATABASE_URL = db.database.url;
  }
  return { root, env };
}

for (const kind of STORE_KINDS) {
  const suite = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  suite(`tandem init [${kind}]`, () => {
    it(
      "classification: `tandem run train` deploys a champion at once",
      async () => {
        const { root, env } = await home(kind);
        const init = await cli(["init", "--template", "classification", "churn"], { cwd: root, env });
        expect(init.code, init.stderr).toBe(0);
        const dir = join(root, "churn");
        // `tandem validate` of the same spec runs in the --templates test below; `run` applies (and checks) it.
        const run = await cli(["run", "train", "--json"], { cwd: dir, env });
        expect(run.code, run.stderr).toBe(0);
        const r = JSON.parse(run.stdout) as RunJson;
        expect(r.status).toBe("succeeded");
        expect(r.steps.map((s) => s.name)).toEqual([
          "generate",
          "dataset",
          "validate",
          "train",
          "evaluate",
          "register",
          "deploy",
        ]);
        const exported = await cli(["catalog", "export", "--format", "backstage"], { cwd: dir, env });
        expect(exported.code, exported.stderr).toBe(0);
        const { items } = JSON.parse(exported.stdout) as { items: Entity[] };
        await expectValidBackstage(items);
        const model = items.find((e) => e.kind === "Resource" && e.metadata.name === "model-churn")!;
        expect(model.spec).toMatchObject({ type: "ai-model", dependsOn: ["resource:churn/dataset-customers"] });
        expect(model.metadata.annotations).toMatchObject({
          "tandem.dev/model-version": "1",
          "tandem.dev/aliases": "champion=1",
        });
        const server = items.find((e) => e.kind === "Component" && e.metadata.name === "endpoint-churn")!;
        expect(server.spec).toMatchObject({
          type: "model-server",
          providesApis: ["api:churn/churn"],
          dependsOn: ["resource:churn/model-churn"],
        });
        const api = items.find((e) => e.kind === "API" && e.metadata.name === "churn")!;
        expect(api.spec?.type).toBe("openapi");
        const doc = JSON.parse(api.spec!.definition as string) as { paths: Record<string, unknown> };
        expect(Object.keys(doc.paths)).toEqual(
          expect.arrayContaining(["/v1/endpoints/churn/predict", "/v2/models/churn/infer"]),
        );
        expect(JSON.stringify(doc)).toContain("tenure_months");
      },
      SLOW_MS,
    );

    it(
      "service: `tandem run release` builds, tests and records the deployment",
      async () => {
        const { root, env } = await home(kind);
        const init = await cli(["init", "--template", "service", "greeter"], { cwd: root, env });
        expect(init.code, init.stderr).toBe(0);
        const dir = join(root, "greeter");
        const run = await cli(["run", "release", "--json"], { cwd: dir, env });
        expect(run.code, run.stderr).toBe(0);
        const r = JSON.parse(run.stdout) as RunJson;
        expect(r.steps.map((s) => [s.name, s.status])).toEqual([
          ["build", "succeeded"],
          ["test", "succeeded"],
          ["deploy", "succeeded"],
        ]);
        const ls = await cli(["deployments", "ls", "--target", "greeter", "--json"], { cwd: dir, env });
        expect(ls.code, ls.stderr).toBe(0);
        expect(JSON.parse(ls.stdout)).toMatchObject([{ kind: "service", target: "greeter", outcome: "succeeded" }]);
      },
      SLOW_MS,
    );

    it(
      "llm: with its stand-in upstream, `tandem run evaluate` registers, evaluates and releases the prompt; a worse prompt is refused",
      async () => {
        const { root, env } = await home(kind);
        const init = await cli(["init", "--template", "llm", "bot"], { cwd: root, env });
        expect(init.code, init.stderr).toBe(0);
        expect(init.stdout).toContain("TANDEM_OUTBOUND_ALLOW=127.0.0.1 tandem run evaluate");
        const dir = join(root, "bot");
        const validate = await cli(["validate"], { cwd: dir, env });
        expect(validate.code, validate.stderr).toBe(0);
        // The template's own stand-in, on a free port (the spec's default is 8799).
        const standin = spawn(process.execPath, [join(dir, "standin/server.mjs"), "0"], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        cleanups.push(() => void standin.kill());
        const upstream = await new Promise<string>((ok, fail) => {
          standin.stdout.once("data", (line: Buffer) => ok(/http:\S+/.exec(line.toString())![0]));
          standin.once("exit", (code) => fail(new Error(`the stand-in exited with ${code}`)));
        });
        const runEnv = { ...env, TANDEM_OUTBOUND_ALLOW: "127.0.0.1" };
        const run = await cli(["run", "evaluate", "-p", `upstream=${upstream}`, "--json"], { cwd: dir, env: runEnv });
        expect(run.code, run.stderr).toBe(0);
        const r = JSON.parse(run.stdout) as RunJson;
        expect(r.steps.map((s) => [s.name, s.status])).toEqual([
          ["register", "succeeded"],
          ["evaluate", "succeeded"],
          ["release", "succeeded"],
        ]);
        const show = await cli(["prompts", "show", "support@production", "--json"], { cwd: dir, env });
        expect(show.code, show.stderr).toBe(0);
        const released = JSON.parse(show.stdout) as {
          version: number;
          evaluations: Array<{ dataset: string; source: string; metrics: Record<string, number> }>;
        };
        expect(released.version).toBe(1);
        expect(released.evaluations[0]).toMatchObject({ dataset: "support-cases@1", source: "pipeline" });
        expect(released.evaluations[0]!.metrics.cases).toBe(30);
        expect(released.evaluations[0]!.metrics["contains.mean"]).toBeGreaterThanOrEqual(0.8);
        // The policy holds: a prompt asking for one word scores 0 and does not take production.
        const prompt = join(dir, "prompts/support.json");
        writeFileSync(prompt, readFileSync(prompt, "utf8").replace("one short sentence", "one word"));
        const worse = await cli(["run", "evaluate", "-p", `upstream=${upstream}`, "--json"], { cwd: dir, env: runEnv });
        expect(worse.code).toBe(1);
        expect(worse.stderr + worse.stdout).toMatch(/policy refused support@2 → production: contains.mean >= 0.8/);
      },
      SLOW_MS,
    );
  });
}

describe("tandem init refuses to overwrite", () => {
  it("refuses a non-empty folder and leaves its files as they were", async () => {
    const { root, env } = await home("sqlite");
    const dir = join(root, "taken");
    mkdirSync(dir);
    writeFileSync(join(dir, "tandem.yaml"), "project: mine\n");
    const res = await cli(["init", "--template", "classification", "taken"], { cwd: root, env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/taken is not empty.*overwrites nothing/);
    expect(readFileSync(join(dir, "tandem.yaml"), "utf8")).toBe("project: mine\n");
    expect(existsSync(join(dir, "steps"))).toBe(false);
    const unknown = await cli(["init", "--template", "nope", "fresh"], { cwd: root, env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--template: expected one of classification, service, llm/);
    expect(existsSync(join(root, "fresh"))).toBe(false);
  });
});

describe("tandem catalog export --templates", () => {
  it(
    "writes Backstage Software Templates whose skeleton, rendered, is a valid project",
    async () => {
      const { root, env } = await home("sqlite");
      const out = join(root, "backstage-templates");
      const res = await cli(["catalog", "export", "--templates", out], { cwd: root, env });
      expect(res.code, res.stderr).toBe(0);
      for (const name of ["classification", "service", "llm"]) {
        const template = parseYaml(readFileSync(join(out, name, "template.yaml"), "utf8")) as Entity;
        await expectValidTemplate(template);
        expect(template.metadata.name).toBe(`tandem-${name}`);
        // Render the skeleton as the scaffolder's fetch:template would, then check the project.
        const skeleton = join(out, name, "skeleton");
        const dir = join(root, `rendered-${name}`);
        cpSync(skeleton, dir, { recursive: true });
        const spec = readFileSync(join(dir, "tandem.yaml"), "utf8");
        expect(spec).toContain("project: ${{ values.name }}{% raw %}");
        writeFileSync(
          join(dir, "tandem.yaml"),
          spec.replace("${{ values.name }}", `my-${name}`).replace("{% raw %}", "").replace("{% endraw %}", ""),
        );
        const info = parseYaml(
          readFileSync(join(dir, "catalog-info.yaml"), "utf8")
            .replaceAll("${{ values.name }}", "x")
            .replaceAll("${{ values.owner }}", "group:default/x"),
        ) as Entity;
        await enforceEntityPolicies(info);
        const validate = await cli(["validate"], { cwd: dir, env });
        expect(validate.code, validate.stderr).toBe(0);
        expect(validate.stdout).toContain("is valid");
      }
      const again = await cli(["catalog", "export", "--templates", out], { cwd: root, env });
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/not empty/);
    },
    SLOW_MS,
  );
});
