/**
 * Names that every plain JavaScript object already has (`toString`, `constructor`, `__proto__`, …),
 * sent where a user's string becomes a lookup key or a written key, through the real server. A name
 * that selects behaviour is refused with a 4xx naming it; a name that is the user's data (a tag, an
 * attribute) round-trips as data. CI once answered 500 to MLflow's order_by ["toString.."].
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

const PROTOTYPE_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];

describe("prototype names in user-supplied keys", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("GET /api/docs/:file answers 404 for a prototype name, without a token", async () => {
    for (const name of PROTOTYPE_NAMES) {
      const res = await fetch(`${s.url}/api/docs/${name}`);
      expect(res.status, name).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(name);
    }
    expect((await fetch(`${s.url}/api/docs/index.css`)).status).toBe(200);
  });
});
