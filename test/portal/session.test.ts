import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createServices, type OpenedServices } from "../../src/main.js";
import { buildServer } from "../../src/server/server.js";
import { freshDatabase, postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

function cookieFrom(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0]! : setCookie!;
  return header.split(";")[0]!;
}

for (const kind of STORE_KINDS) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`browser sessions [${kind}]`, () => {
    let app: FastifyInstance;
    let opened: OpenedServices;
    let home: string;
    let cleanup: () => Promise<void> | void = () => undefined;
    let admin: string;

    beforeAll(async () => {
      home = mkdtempSync(join(tmpdir(), "tandem-session-"));
      const fresh = await freshDatabase(kind);
      cleanup = fresh.cleanup;
      opened = await createServices({ ...loadConfig({ TANDEM_HOME: home }), database: fresh.database });
      admin = opened.firstAdminToken!;
      ({ app } = await buildServer({ services: opened.services, validateResponses: true }));
    });
    afterAll(async () => {
      await app?.close();
      await opened?.close();
      await cleanup();
      rmSync(home, { recursive: true, force: true });
    });

    it("exchanges a token for an HttpOnly SameSite=Strict cookie that authenticates", async () => {
      const signIn = await app.inject({
        method: "POST",
        url: "/api/v1/session",
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(signIn.statusCode).toBe(201);
      const setCookie = String(signIn.headers["set-cookie"]);
      expect(setCookie).toMatch(/^tandem_session=[A-Za-z0-9_-]{43};/);
      expect(setCookie).toContain("HttpOnly");
      expect(setCookie).toContain("SameSite=Strict");
      expect(setCookie).toContain("Path=/");
      const cookie = cookieFrom(signIn.headers["set-cookie"]);
      const who = await app.inject({ method: "GET", url: "/api/v1/whoami", headers: { cookie } });
      expect(who.statusCode).toBe(200);
      expect(who.json()).toMatchObject({ user: "admin", is_admin: true });
    });

    it("tells a browser whether it is signed in, without a failed request", async () => {
      const anonymous = await app.inject({ method: "GET", url: "/api/v1/session" });
      expect(anonymous.statusCode).toBe(200);
      expect(anonymous.json()).toMatchObject({ signed_in: false, user: null });
      const signIn = await app.inject({
        method: "POST",
        url: "/api/v1/session",
        headers: { authorization: `Bearer ${admin}` },
      });
      const cookie = cookieFrom(signIn.headers["set-cookie"]);
      const me = await app.inject({ method: "GET", url: "/api/v1/session", headers: { cookie } });
      expect(me.json()).toMatchObject({ signed_in: true, user: "admin", is_admin: true });
    });

    it("treats a malformed cookie as no session, not as a server error", async () => {
      const res = await app.inject({
        method: "GET",
        url: "/api/v1/whoami",
        headers: { cookie: "tandem_session=%E0%A4%A" },
      });
      expect(res.statusCode).toBe(401);
    });

    it("refuses the raw token as a cookie value: a cookie is a session, never a token", async () => {
      const who = await app.inject({
        method: "GET",
        url: "/api/v1/whoami",
        headers: { cookie: `tandem_session=${admin}` },
      });
      expect(who.statusCode).toBe(401);
    });

    it("signs out: the cookie stops working and is cleared", async () => {
      const signIn = await app.inject({
        method: "POST",
        url: "/api/v1/session",
        headers: { authorization: `Bearer ${admin}` },
      });
      const cookie = cookieFrom(signIn.headers["set-cookie"]);
      const out = await app.inject({ method: "DELETE", url: "/api/v1/session", headers: { cookie } });
      expect(out.statusCode).toBe(200);
      expect(String(out.headers["set-cookie"])).toContain("Max-Age=0");
      const who = await app.inject({ method: "GET", url: "/api/v1/whoami", headers: { cookie } });
      expect(who.statusCode).toBe(401);
      expect(who.json().error.message).toMatch(/session has ended/);
    });

    it("ends the session when its token is revoked, and keeps the token's caps", async () => {
      const made = await app.inject({
        method: "POST",
        url: "/api/v1/tokens",
        headers: { authorization: `Bearer ${admin}` },
        payload: { name: "ui", role: "viewer", project: "default" },
      });
      const { token, id } = made.json();
      const signIn = await app.inject({
        method: "POST",
        url: "/api/v1/session",
        headers: { authorization: `Bearer ${token}` },
      });
      const cookie = cookieFrom(signIn.headers["set-cookie"]);
      const members = await app.inject({ method: "GET", url: "/api/v1/projects/default/members", headers: { cookie } });
      expect(members.json().your_role).toBe("viewer");
      await app.inject({
        method: "DELETE",
        url: `/api/v1/tokens/${id}`,
        headers: { authorization: `Bearer ${admin}` },
      });
      const who = await app.inject({ method: "GET", url: "/api/v1/whoami", headers: { cookie } });
      expect(who.statusCode).toBe(401);
      expect(who.json().error.message).toMatch(/revoked/);
    });

    it("audits sign-in and sign-out", async () => {
      const events = await app.inject({
        method: "GET",
        url: "/api/v1/audit?limit=1000",
        headers: { authorization: `Bearer ${admin}` },
      });
      const actions = (events.json().events as Array<{ action: string }>).map((e) => e.action);
      expect(actions).toContain("session.open");
      expect(actions).toContain("session.close");
    });

    it("answers unknown API paths with JSON 404s, not the UI", async () => {
      const res = await app.inject({ method: "GET", url: "/api/v1/nope" });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe("NOT_FOUND");
      const ui = await app.inject({ method: "GET", url: "/runs/abc" });
      expect(ui.statusCode).toBe(200);
      expect(ui.headers["content-type"]).toContain("text/html");
    });
  });
}
