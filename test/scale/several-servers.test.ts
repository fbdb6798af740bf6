/**
 * Several `tandem server` processes on one store (issue 17 §4), as real processes:
 * - on PostgreSQL two servers share the work: each schedule tick starts one run and each alert is
 *   delivered once, though both run the same loops; the audit chain they share verifies;
 * - on SQLite a second server on the same file refuses to start, saying why, while a CLI command
 *   keeps using the file; a server killed with -9 leaves nothing that stops the next one.
 */
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freshPostgresDatabase, postgresAvailable } from "../helpers/stores.js";
import {
  adminTokenOf,
  api,
  killHard,
  newCluster,
  startReceiver,
  startServerProcess,
  until,
  type ServerProcess,
} from "./server-processes.js";

const BIN = resolve(import.meta.dirname, "../../bin/tandem.js");
const P = "/api/v1/projects/default";

const SPEC = `project: default
pipelines:
  tick:
    triggers:
      - schedule: "*/2 * * * * *"
    steps:
      hello:
        run: echo tick
`;

describe.skipIf(!postgresAvailable())("two servers on one Postgres", () => {
  const servers: ServerProcess[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const s of servers) await killHard(s);
    for (const c of cleanups.reverse()) await c();
  });

  it("start one run per schedule tick and deliver each alert once", async () => {
    const db = await freshPostgresDatabase();
    cleanups.push(db.cleanup);
    const cluster = newCluster((db.database as { url: string }).url);
    // A slow receiver: while one server works through the due deliveries, the other's delivery loop
    // ticks many times over them; without a claim it sends them again.
    const receiver = await startReceiver(150);
    cleanups.push(() => receiver.close());
    const a = startServerProcess(cluster, "a");
    servers.push(a);
    const urlA = await a.url;
    const token = adminTokenOf(cluster, "a");
    const b = startServerProcess(cluster, "b");
    servers.push(b);
    const urlB = await b.url;

    expect((await api(urlA, token, "POST", `${P}/alert-receivers`, { url: receiver.url })).status).toBe(201);
    expect((await api(urlB, token, "POST", `${P}/specs`, { source: SPEC, file: "tandem.yaml" })).status).toBe(201);

    // Alerts raised through both servers, at once: each one is delivered by exactly one of them.
    const names = Array.from({ length: 30 }, (_, i) => `several-${i}`);
    await Promise.all(
      names.map((name, i) =>
        api(i % 2 ? urlA : urlB, token, "POST", `${P}/alerts`, {
          alerts: [{ status: "firing", labels: { alertname: name, severity: "warning" } }],
        }).then((r) => expect(r.status).toBe(200)),
      ),
    );
    await until("every alert delivered", () => receiver.received.length >= names.length, 60_000);

    // Both servers tick schedules every 5 s: wait for several ticks, then stop scheduling.
    const runsOf = async () =>
      (
        await api<{ runs: Array<{ status: string; trigger: { kind?: string; scheduled_for?: string } }> }>(
          urlA,
          token,
          "GET",
          `${P}/pipeline-runs?pipeline=tick&limit=500`,
        )
      ).body.runs;
    await until("four scheduled runs", async () => (await runsOf()).length >= 4, 90_000);
    // Let a few more ticks of both servers pass, so that a duplicate would have had its chance.
    await new Promise((r) => setTimeout(r, 6000));
    await api(urlA, token, "POST", `${P}/specs`, {
      source: SPEC.replace(/ {4}triggers:\n.*\n/, ""),
      file: "tandem.yaml",
    });

    const runs = await runsOf();
    const ticks = runs.map((r) => r.trigger.scheduled_for);
    expect(ticks.every((t) => typeof t === "string")).toBe(true);
    expect(new Set(ticks).size).toBe(ticks.length);
    await until(
      "the scheduled runs to finish",
      async () => (await runsOf()).every((r) => ["succeeded", "failed", "cancelled"].includes(r.status)),
      60_000,
    );
    expect((await runsOf()).filter((r) => r.status !== "succeeded")).toEqual([]);

    const delivered = receiver.received.flatMap((n) => n.alerts.map((x) => `${x.labels.alertname}:${x.status}`));
    expect(delivered.sort()).toEqual(names.map((n) => `${n}:firing`).sort());

    // Both servers appended to one audit chain and one shared head: it verifies.
    const verify = await api<{ ok: boolean }>(urlB, token, "GET", "/api/v1/audit/verify");
    expect(verify.body).toMatchObject({ ok: true });
    expect(a.output()).toContain("background loops shared with any other server");
  });
});

describe("a second server on one SQLite file", () => {
  it("refuses to start, saying why, while the CLI keeps using the file; kill -9 frees it", async () => {
    const cluster = newCluster("");
    delete cluster.env.TANDEM_DATABASE_URL;
    const env = { TANDEM_DATABASE_URL: `sqlite:${join(cluster.root, "shared", "tandem.db")}` };
    const first = startServerProcess(cluster, "first", env);
    await first.url;
    const second = startServerProcess(cluster, "second", env);
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toContain("another tandem server is already running on");
    expect(second.output()).toContain(`pid ${first.child.pid}`);
    expect(second.output()).toContain("PostgreSQL");
    expect(second.output()).not.toMatch(/\n\s+at /); // no stack trace

    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("TANDEM_")) childEnv[k] = v;
    const listed = execFileSync(process.execPath, [BIN, "audit", "verify", "--json"], {
      env: { ...childEnv, ...cluster.env, ...env, TANDEM_HOME: join(cluster.root, "first") },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(JSON.parse(listed)).toMatchObject({ ok: true });

    await killHard(first);
    const third = startServerProcess(cluster, "third", env);
    try {
      await expect(third.url).resolves.toMatch(/^http:/);
    } finally {
      await killHard(third);
    }
  });
});
