/**
 * `data add` reads a dataset's latest version from the services (api.embeddedRead) after the checks
 * of the route it stands in for. Those checks are written down in data-add.ts; if the route's role,
 * tags or auth changed, the embedded read would check less than the route: this test says so.
 */
import { describe, expect, it } from "vitest";
import { dataRoutes } from "../server/routes/data.js";
import { LATEST_VERSION_GUARD } from "./data-add.js";

describe("data add's embedded read", () => {
  it("checks what the route it stands in for checks", () => {
    const { route, role } = LATEST_VERSION_GUARD;
    const matches = dataRoutes.filter((r) => r.method === route.method && r.url === route.url);
    expect(matches).toHaveLength(1);
    const real = matches[0] as unknown as { role?: string; tags?: string[]; auth?: string };
    expect(real.auth).toBe("bearer");
    expect(real.role).toBe(role);
    expect(real.tags).toEqual(route.tags);
  });
});
