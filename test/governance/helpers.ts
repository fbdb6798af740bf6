/**
 * A governed project on a real Tandem server (over HTTP): users with each role and their tokens, a
 * project folder with two models and a data set, and a spec whose pipeline evaluates a model with
 * `tandem/evaluate` (pipeline evidence) and registers it. The attack suites start from here.
 */
import { createHmac } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { dataTriggerTick } from "../../src/wiring/data.js";
import { tinyOnnx } from "../helpers/onnx.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import type { StoreKind } from "../helpers/stores.js";

export const PROJECT = "gov";
export const P = `/api/v1/projects/${PROJECT}`;
export const WEBHOOK_SECRET = "s3cret-for-tests";

/** Who is who: a member (the attacker), an approver who also runs pipelines, a second approver, a project admin. */
export const PEOPLE = { mallory: "member", erin: "approver", dana: "approver", ada: "admin" } as const;
export type Person = keyof typeof PEOPLE | "admin";

export const POLICIES = `policies:
  release:
    description: What may be champion, take prod's traffic or be MLflow's Production.
    applies_to:
      aliases: [champion]
      endpoints: [prod]
      stages: [Production]
    require:
      - metric: roc_auc >= 0.6
      - approvals: { role: approver, count: 1 }
  smoke:
    description: Staging needs a sane metric, no human.
    applies_to:
      aliases: [staging]
    require:
      - metric: roc_auc >= 0.5
`;

export const PIPELINES = `pipelines:
  train:
    params:
      model: good.onnx
    triggers:
      - data: gov-data
      - git:
          branch: main
    steps:
      prepare:
        run: |
          cp \${{ inputs.raw }} "$TANDEM_OUTPUT_TABLE/data.csv"
        inputs:
          raw: dataset://gov-data@latest
        outputs:
          table: dir
      train:
        run: |
          cp \${{ params.model }} "$TANDEM_OUTPUT_MODEL/model.onnx"
        outputs:
          model: dir
      evaluate:
        cache: false
        uses: tandem/evaluate
        with:
          model: \${{ steps.train.outputs.model }}
          model_name: m
          data: \${{ steps.prepare.outputs.table }}
          target: y
          data_ref: gov-data@1
          compare: [champion]
      register:
        needs: [evaluate]
        cache: false
        uses: tandem/register
        with:
          model: m
          artifact: \${{ steps.train.outputs.model }}
  selfreg:
    steps:
      upload:
        run: |
          node register-over-api.mjs
`;

export const SPEC = `project: ${PROJECT}\n${PIPELINES}${POLICIES}`;

/** A step's own script: registers good.onnx through the REST API with the run's token (what MLflow code in a step does). */
const SELF_REGISTER = `
const base = process.env.TANDEM_URL + "/api/v1/projects/${PROJECT}";
const headers = { authorization: "Bearer " + process.env.TANDEM_TOKEN };
const { readFileSync } = await import("node:fs");
const up = await fetch(base + "/model-blobs", {
  method: "POST",
  headers: { ...headers, "content-type": "application/octet-stream" },
  body: readFileSync("good.onnx"),
});
const blob = await up.json();
const reg = await fetch(base + "/models/m/versions", {
  method: "POST",
  headers: { ...headers, "content-type": "application/json" },
  body: JSON.stringify({ artifact: { kind: "blob", sha256: blob.sha256, file_name: "model.onnx" } }),
});
console.log("registered", reg.status, JSON.stringify((await reg.json()).version?.version));
if (reg.status !== 201) process.exit(1);
`;

/** The evaluation table; each `variant` adds a row, so each added version is new content. */
function dataCsv(variant: number): string {
  const lines = ["distance,hour,y", ...Array.from({ length: variant }, () => "0,0,0")];
  for (let i = 0; i < 200; i++) {
    const distance = (i * 7) % 13;
    const hour = (i * 5) % 11;
    const noise = ((i * 3) % 5) - 2;
    lines.push(`${distance},${hour},${distance - hour + noise > 0 ? 1 : 0}`);
  }
  return `${lines.join("\n")}\n`;
}

export interface Governed {
  srv: TestServer;
  workspace: string;
  tokens: Record<Person, string>;
  as<T = Record<string, any>>( // eslint-disable-line @typescript-eslint/no-explicit-any
    who: Person,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  /** Starts `pipeline` as `who` and waits for its end. */
  run(who: Person, pipeline: string, params?: Record<string, string>): Promise<RunWire>;
  /** Waits for a run started elsewhere (a trigger). */
  waitRun(id: string): Promise<RunWire>;
  /** Adds a version of data set gov-data and fires its data trigger (as the server's loop would). */
  addData(who: Person): Promise<void>;
  /** Commits the project folder with the governed spec as tandem.yaml; answers the commit id (pushes run commits). */
  commit(): string;
  /** A signed GitHub push webhook by `login`. */
  push(login: string, commit: string): Promise<{ status: number; body: { runs: Array<{ run_id: string | null }> } }>;
  close(): Promise<void>;
}

export interface RunWire {
  id: string;
  status: string;
  created_by: string;
  triggered_by: string | null;
  trigger: Record<string, unknown>;
  steps?: Array<{ name: string; status: string; error: string | null; metrics: Record<string, number> }>;
}

export async function governedProject(store: StoreKind): Promise<Governed> {
  const srv = await startTestServer({ store });
  const workspace = mkdtempSync(join(tmpdir(), "tandem-gov-"));
  writeFileSync(join(workspace, "good.onnx"), tinyOnnx({ features: ["distance", "hour"], weights: [1, -1] }));
  writeFileSync(join(workspace, "bad.onnx"), tinyOnnx({ features: ["distance", "hour"], weights: [-1, 1] }));
  writeFileSync(join(workspace, "register-over-api.mjs"), SELF_REGISTER);
  writeFileSync(join(workspace, "other.onnx"), tinyOnnx({ features: ["distance", "hour"], weights: [2, -2] }));
  const tokens = { admin: srv.adminToken } as Record<Person, string>;
  let dataVersions = 0;
  let commits = 0;
  const as: Governed["as"] = (who, method, path, body) => srv.api(method, path, body, tokens[who]);
  expect((await as("admin", "PUT", `${P}/secrets/GIT_WEBHOOK_SECRET`, { value: WEBHOOK_SECRET })).status).toBe(200);
  for (const [user, role] of Object.entries(PEOPLE)) {
    expect((await as("admin", "POST", "/api/v1/users", { name: user })).status).toBe(201);
    expect((await as("admin", "PUT", `${P}/members/${user}`, { role })).status).toBe(200);
    tokens[user as Person] = (
      await as<{ token: string }>("admin", "POST", "/api/v1/tokens", { name: "t", user })
    ).body.token;
  }
  const g: Governed = {
    srv,
    workspace,
    tokens,
    as,
    async waitRun(id) {
      for (;;) {
        const r = await as<RunWire>("admin", "GET", `${P}/pipeline-runs/${id}`);
        if (["succeeded", "failed", "cancelled"].includes(r.body.status)) return r.body;
        await new Promise((done) => setTimeout(done, 100));
      }
    },
    async run(who, pipeline, params = {}) {
      const started = await as<RunWire>(who, "POST", `${P}/pipelines/${pipeline}/runs`, { params, no_cache: true });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      return g.waitRun(started.body.id);
    },
    async addData(who) {
      const csv = Buffer.from(dataCsv(dataVersions++));
      const res = await fetch(`${srv.url}${P}/datasets/gov-data/blobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens[who]}`, "content-type": "application/octet-stream" },
        body: csv,
      });
      const blob = (await res.json()) as { sha256: string };
      const added = await as(who, "POST", `${P}/datasets/gov-data/versions`, {
        kind: "file",
        entries: [{ path: "data.csv", sha256: blob.sha256, size: csv.length }],
      });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
      // What the server's background loop does (tests drive it): new versions fire `data:` triggers.
      await dataTriggerTick(srv.server.opened.services);
    },
    commit() {
      const git = (...args: string[]) =>
        execFileSync("git", ["-C", workspace, "-c", "user.email=t@t", "-c", "user.name=t", ...args], {
          encoding: "utf8",
        });
      if (!existsSync(join(workspace, ".git"))) git("init", "-q", "-b", "main");
      writeFileSync(join(workspace, "tandem.yaml"), SPEC);
      git("add", "-A");
      git("commit", "-q", "--allow-empty", "-m", `commit ${++commits}`);
      return git("rev-parse", "HEAD").trim();
    },
    async push(login, commit) {
      const body = JSON.stringify({
        ref: "refs/heads/main",
        after: commit,
        repository: { full_name: "acme/gov" },
        pusher: { name: login },
        sender: { login },
      });
      const signature = `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`;
      const res = await fetch(`${srv.url}/api/v1/hooks/git?project=${PROJECT}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hub-signature-256": signature, "x-github-event": "push" },
        body,
      });
      return { status: res.status, body: (await res.json()) as { runs: Array<{ run_id: string | null }> } };
    },
    async close() {
      await srv.stop();
      rmSync(workspace, { recursive: true, force: true });
    },
  };
  return g;
}

/** Applies the governed spec as `who` (its policies unchanged after the first admin apply). */
export async function applySpec(g: Governed, who: Person, source = SPEC) {
  return g.as(who, "POST", `${P}/specs`, { source, workspace: g.workspace });
}

/** Where an alias points now (null: nowhere). */
export async function aliasOf(g: Governed, alias: string): Promise<number | null> {
  const r = await g.as<{ version: number }>("admin", "GET", `${P}/models/m/versions/${alias}`);
  return r.status === 200 ? r.body.version : null;
}

export interface DecisionWire {
  id: string;
  action: string;
  target: { kind: string; name: string };
  verdict: string;
  governing: Array<{ policy: string; reason: string }>;
  checks: Array<{
    policy: string;
    kind: string;
    check: string;
    outcome: string;
    detail: string;
    excluded?: Array<{ user: string; reason: string }>;
    evidence?: Array<{ id: string; source: string | null; used: boolean; note: string }>;
  }>;
}

/** The newest decision record of `m@version`. */
export async function latestDecision(g: Governed, version: number): Promise<DecisionWire> {
  const r = await g.as<{ decisions: DecisionWire[] }>("admin", "GET", `${P}/models/m/versions/${version}/decisions`);
  return r.body.decisions[0]!;
}

/** A governed project with one data version and `spec` applied by the site admin. */
export async function appliedProject(store: StoreKind, spec = SPEC): Promise<Governed> {
  const g = await governedProject(store);
  await g.addData("admin");
  expect((await applySpec(g, "admin", spec)).status).toBe(201);
  return g;
}

/** MLflow's REST API as `who` (what `MlflowClient` sends), JSON in and out. */
export async function mlflowAs(
  g: Governed,
  who: Person,
  method: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: { message?: string } }> {
  const res = await fetch(`${g.srv.url}/api/2.0/mlflow/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${g.tokens[who]}`,
      "content-type": "application/json",
      "x-tandem-project": PROJECT,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { message?: string } };
}
