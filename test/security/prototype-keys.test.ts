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

  it("POST /v1/traces keeps span and resource attributes named like prototype members as data", async () => {
    const traceId = "0123456789abcdef0123456789abcdef";
    const str = (v: string) => ({ stringValue: v });
    // A `__proto__` attribute whose value is a key/value list: with `{}` as the map it became the
    // attributes' prototype, so the span's model and the resource's project were read from it.
    const smuggle = (key: string, value: string) => ({ kvlistValue: { values: [{ key, value: str(value) }] } });
    const body = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: "service.name", value: str("svc") },
              { key: "__proto__", value: smuggle("tandem.project", "elsewhere") },
            ],
          },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId: "0123456789abcdef",
                  name: "chat",
                  startTimeUnixNano: "1700000000000000000",
                  endTimeUnixNano: "1700000001000000000",
                  attributes: [
                    { key: "__proto__", value: smuggle("gen_ai.request.model", "smuggled") },
                    ...PROTOTYPE_NAMES.slice(1).map((key) => ({ key, value: str(key) })),
                  ],
                },
              ],
            },
          ],
        },
      ],
    };
    expect((await s.api("POST", "/v1/traces", body)).status).toBe(200);
    const read = await s.api<{ spans: Array<Record<string, unknown>> }>(
      "GET",
      `/api/v1/projects/default/traces/${traceId}`,
    );
    expect(read.status).toBe(200);
    const [span] = read.body.spans;
    expect(span!.model).toBeNull();
    // Object.fromEntries makes `__proto__` an own key, as JSON.parse does (a literal would not).
    expect(span!.attributes).toEqual(
      Object.fromEntries([
        ["__proto__", { "gen_ai.request.model": "smuggled" }],
        ...PROTOTYPE_NAMES.slice(1).map((key) => [key, key]),
      ]),
    );
    expect(span!.resource).toEqual(
      Object.fromEntries([
        ["service.name", "svc"],
        ["__proto__", { "tandem.project": "elsewhere" }],
      ]),
    );
  });
});
