/**
 * Replays the HTTP exchanges of the real MLflow 2.12 Python client (recorded once, see
 * test/fixtures/mlflow/README.md) against a fresh server on SQLite and on Postgres: every answer must
 * have the recorded status and the recorded normalised body.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { replay, type Recording } from "./mlflow-replay.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "mlflow");
// The client and registry scripts work on what the training script made, so order matters.
const SCRIPTS = ["train", "client", "registry"];

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
        for (const r of results) {
          expect({ at: `${r.index} ${r.method} ${r.url}`, ...r.actual }).toEqual({
            at: `${r.index} ${r.method} ${r.url}`,
            ...r.expected,
          });
        }
      });
    }
  });
}
