/**
 * Replays the HTTP exchanges the real MLflow 2.12 Python client had with the real MLflow 2.12 server
 * (recorded by scripts/record-mlflow-fixtures.ts, see test/fixtures/mlflow/README.md) against a fresh
 * Tandem server on SQLite and on Postgres: every answer must have MLflow's status, error code, keys
 * and JSON types (shapeOf), and downloads MLflow's bytes. Runs in every CI run; no MLflow needed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { replay, shapeOf, withoutKnown, type KnownDifference, type Recording } from "./mlflow-replay.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "mlflow");
// The client and registry scripts work on what the training script made, so order matters.
const SCRIPTS = ["train", "client", "registry", "models"];

/** Where Tandem answers differently on purpose; each says why. Everything else must match MLflow. */
const KNOWN: KnownDifference[] = [
  {
    where: /^registry /,
    path: "user_id",
    why: "Tandem records who registered a model or version; MLflow 2.12's server leaves user_id unset",
  },
  {
    where: /^models \d+ \w+ \/api\/2\.0\/mlflow\/(registered-models|model-versions)\//,
    path: "user_id",
    why: "as above",
  },
  {
    where: /model-versions\/search/,
    path: "model_versions[].aliases",
    why: "Tandem fills in a version's aliases in searches too; MLflow 2.12 leaves them out of search results",
  },
  {
    where: /^client 3 POST \/api\/2\.0\/mlflow\/runs\/search$/,
    path: "next_page_token",
    why: "MLflow hands out a token whenever a page is full, even the last; Tandem only when more runs follow",
  },
  {
    where: /^registry (9 POST \S+model-versions\/create|36 POST \S+registered-models\/rename)$/,
    path: "tags",
    why: "Tandem versions are their files: registering the same files again answers version 1 (with its tags) where MLflow adds version 2, so later answers show different versions",
  },
];

for (const kind of STORE_KINDS) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`recorded MLflow client exchanges [${kind}]`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer({ store: kind });
    });
    afterAll(async () => {
      await s?.stop();
    });
    for (const name of SCRIPTS) {
      it(`replays ${name}`, async () => {
        const recording = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as Recording;
        const results = await replay(s.url, s.adminToken, recording);
        expect(results.length).toBe(recording.exchanges.length);
        const shape = (r: (typeof results)[number], response: unknown) =>
          withoutKnown(shapeOf(response), `${name} ${r.index} ${r.method} ${r.url}`, KNOWN);
        const tandem = results.map((r) => ({
          at: `${r.index} ${r.method} ${r.url}`,
          status: r.actual.status,
          shape: shape(r, r.actual.response),
        }));
        const mlflow = results.map((r) => ({
          at: `${r.index} ${r.method} ${r.url}`,
          status: r.expected.status,
          shape: shape(r, r.expected.response),
        }));
        expect(tandem).toEqual(mlflow);
      });
    }
  });
}
