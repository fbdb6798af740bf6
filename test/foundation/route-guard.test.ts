/**
 * Walks the whole route table and proves that every route that changes state refuses a request
 * without valid credentials for its scheme (401) and one with too low a role (403) — so a new route
 * cannot forget its guard. Routes are taken from the server itself, so areas added later are covered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type Role } from "../../src/core/governance/model.js";
import { allRoutes } from "../../src/server/routes/index.js";
import { changesState, type AnyRoute } from "../../src/server/route-kit.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const PROJECT = "guardproj";

/** Concrete URL for a route pattern: `:project` → the guard project, other params → "1", `*` → "a/b". */
function concreteUrl(url: string): string {
  return url
    .replace(":project", PROJECT)
    .replace(/:[A-Za-z0-9_]+/g, "1")
    .replace(/\*$/, "a/b");
}

const stateRoutes = allRoutes().filter(changesState);

describe("route guards", () => {
  let t: TestServer;
  /** A token per role in the guard project, plus one for a user who is a member of nothing. */
  const tokens: Partial<Record<Role | "outsider", string>> = {};

  beforeAll(async () => {
    // Every route is tried with a wrong token from this one address: lift the failed-auth limit.
    t = await startTestServer({ env: { TANDEM_AUTH_FAILURES_PER_MINUTE: "0" } });
    await t.api("PUT", `/api/v1/projects/${PROJECT}/members/admin`, { role: "admin" });
    for (const who of [...ROLES, "outsider"] as const) {
      const user = `guard-${who}`;
      await t.api("POST", "/api/v1/users", { name: user });
      if (who !== "outsider") await t.api("PUT", `/api/v1/projects/${PROJECT}/members/${user}`, { role: who });
      const made = await t.api<{ token: string }>("POST", "/api/v1/tokens", { name: "guard", user });
      if (made.status !== 201) throw new Error(`token for ${user}: ${JSON.stringify(made)}`);
      tokens[who] = made.body.token;
    }
  });
  afterAll(async () => {
    await t.stop();
  });

  it("has routes to check", () => {
    expect(stateRoutes.length).toBeGreaterThan(3);
  });

  it("never leaves a state-changing route public", () => {
    const open = stateRoutes.filter((r) => r.auth === "none").map((r) => `${r.method} ${r.url}`);
    expect(open).toEqual([]);
  });

  /** The token of a principal one step below what the route needs, or null where nothing is below. */
  function tooLow(route: AnyRoute): string | null {
    switch (route.role) {
      case null:
      case "authenticated":
        return null;
      case "site-admin":
        return tokens.admin!; // a project admin who is not a site admin
      case "viewer":
        return tokens.outsider!;
      default: {
        const below = ROLES[ROLES.indexOf(route.role) - 1]!;
        return tokens[below]!;
      }
    }
  }

  async function send(route: AnyRoute, url: string, headers: Record<string, string>): Promise<number> {
    const res = await fetch(t.url + url, {
      method: route.method,
      headers: { "content-type": "application/json", ...headers },
      body: route.method === "GET" || route.method === "DELETE" ? undefined : "{}",
    });
    await res.arrayBuffer();
    return res.status;
  }

  for (const route of stateRoutes) {
    const url = concreteUrl(route.url);
    it(`${route.method} ${route.url} answers 401 without valid credentials`, async () => {
      expect(await send(route, url, {})).toBe(401);
      if (route.auth === "bearer") {
        expect(await send(route, url, { authorization: "Bearer tdm_not-a-real-token" })).toBe(401);
      } else if (route.auth === "hmac") {
        expect(
          await send(route, url, { "x-hub-signature-256": "sha256=" + "0".repeat(64), "x-gitlab-token": "wrong" }),
        ).toBe(401);
      }
    });
    const hasLowerRole = route.role !== null && route.role !== "authenticated";
    if (hasLowerRole && route.auth === "bearer") {
      it(`${route.method} ${route.url} answers 403 below role ${String(route.role)}`, async () => {
        const low = tooLow(route)!;
        expect(await send(route, url, { authorization: `Bearer ${low}`, "x-tandem-project": PROJECT })).toBe(403);
      });
    }
  }
});
