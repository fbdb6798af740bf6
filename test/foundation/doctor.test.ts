/**
 * `tandem doctor` as an operator runs it: the real binary on a real home, SQLite and PostgreSQL.
 * Each broken part (a pending migration, an unwritable artifact store, a store or server that does
 * not answer, a missing web UI or Python, a full disk) gives a FIX line that says what to do and
 * exit 1; a healthy installation gives only ok lines and exit 0; doctor never migrates.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";
import { runDoctor } from "../../src/wiring/doctor.js";
import { formatChecks } from "../../src/cli/doctor.js";
import { freshDatabase, postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { KubernetesStandIn } from "../helpers/kubernetes-standin.js";
import { cli } from "../pipelines/cli.js";
import { startTestServer } from "../helpers/server.js";

const BIN = join(import.meta.dirname, "../../bin/tandem.js");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tandem-doctor-"));
  dirs.push(dir);
  return dir;
}

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

function doctor(env: Record<string, string>, args: string[] = ["--json"]) {
  const res = spawnSync(process.execPath, [BIN, "doctor", ...args], {
    env: { ...process.env, TANDEM_URL: "", TANDEM_TOKEN: "", NO_COLOR: "", FORCE_COLOR: "", ...env },
    encoding: "utf8",
  });
  const checks = args.includes("--json") && res.stdout ? (JSON.parse(res.stdout) as Check[]) : [];
  return { status: res.status, stdout: res.stdout, stderr: res.stderr, checks };
}

const byName = (checks: Check[], name: string) => checks.find((c) => c.check === name);

describe("tandem doctor", () => {
  it("on a fresh home: every line ok, and it creates nothing", () => {
    const home = join(tempDir(), "home");
    const { status, checks } = doctor({ TANDEM_HOME: home });
    // (A machine with Slurm's clients installed gets a second executors line.)
    expect([...new Set(checks.map((c) => c.check))]).toEqual([
      "store",
      "artifacts",
      "executors",
      "web UI",
      "python",
      "disk",
    ]);
    expect(byName(checks, "store")?.detail).toMatch(/no database .* yet: the first tandem command/);
    expect(spawnSync("ls", [home]).status).not.toBe(0); // the home was not created
    expect(status).toBe(0);
  });

  for (const kind of STORE_KINDS) {
    const run = kind === "postgres" && !postgresAvailable() ? it.skip : it;
    run(`[${kind}] names a pending migration without applying it, and says what to do`, async () => {
      const { database, cleanup } = await freshDatabase(kind);
      try {
        const home = tempDir();
        const env = {
          TANDEM_HOME: home,
          TANDEM_DATABASE_URL: database.kind === "postgres" ? database.url : `sqlite:${database.file}`,
        };
        const healthy = doctor(env);
        expect(byName(healthy.checks, "migrations")).toMatchObject({ ok: true });
        expect(byName(healthy.checks, "store")?.detail).toMatch(kind === "postgres" ? /PostgreSQL/ : /answers/);
        // A Postgres that trusts local connections (here and in CI) is the one thing to fix
        // (test/security/store-network.test.ts); nothing else is.
        const exposed = byName(healthy.checks, "store access") ? ["store access"] : [];
        expect(healthy.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(exposed);
        expect(healthy.status).toBe(exposed.length ? 1 : 0);

        // As if this version shipped a migration the store has not seen yet.
        const store = await SqlMetadataStore.create({ database, migrate: false });
        const newest = await sql<{
          name: string;
        }>`select name from kysely_migration order by name desc limit 1`.execute(store.db);
        const name = newest.rows[0]!.name;
        await sql`delete from kysely_migration where name = ${name}`.execute(store.db);
        await store.close();

        for (let i = 0; i < 2; i++) {
          const pending = doctor(env);
          expect(byName(pending.checks, "migrations")).toEqual({
            check: "migrations",
            ok: false,
            detail: `1 pending (${name}): back up the store, then start tandem server once to apply them (docs/guides/operations.md)`,
          });
          expect(pending.status).toBe(1);
        }
      } finally {
        await cleanup();
      }
    });
  }

  it("says what to do when the store or the artifacts cannot be reached", () => {
    const home = tempDir();
    const file = join(home, "a-file");
    writeFileSync(file, "");
    const { status, checks } = doctor({
      TANDEM_HOME: home,
      TANDEM_DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
      TANDEM_ARTIFACTS: join(file, "artifacts"),
    });
    expect(status).toBe(1);
    expect(byName(checks, "store")).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^PostgreSQL \(TANDEM_DATABASE_URL\) does not answer: .*ECONNREFUSED/),
    });
    expect(byName(checks, "artifacts")).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/is not a writable directory; point TANDEM_ARTIFACTS elsewhere$/),
    });
  });

  it("with TANDEM_URL: checks the server answers and the token signs in, not the local stores", async () => {
    const t = await startTestServer();
    try {
      const dir = tempDir();
      const run = async (env: Record<string, string>) => {
        const res = await cli(["doctor", "--json"], { cwd: dir, env: { TANDEM_HOME: join(dir, "h"), ...env } });
        return { code: res.code, checks: JSON.parse(res.stdout) as Check[] };
      };
      const good = await run({ TANDEM_URL: t.url, TANDEM_TOKEN: t.adminToken });
      expect(good.checks.map((c) => c.check)).toEqual(["server", "token", "python"]);
      expect(good.checks.slice(0, 2)).toEqual([
        { check: "server", ok: true, detail: `${t.url} is ready` },
        { check: "token", ok: true, detail: "signs in as admin (site admin)" },
      ]);
      const wrong = await run({ TANDEM_URL: t.url, TANDEM_TOKEN: "tdm_NotARealTokenButLooksLikeOne0123456789ab" });
      expect(byName(wrong.checks, "token")).toEqual({
        check: "token",
        ok: false,
        detail: "the server refuses TANDEM_TOKEN (401): it is wrong, revoked or expired; ask an admin for a new one",
      });
      expect(wrong.code).toBe(1);
      const none = await run({ TANDEM_URL: t.url });
      expect(byName(none.checks, "token")?.detail).toBe(
        "TANDEM_TOKEN is not set (nor <home>/admin.token): ask an admin for a token",
      );
      const away = await run({ TANDEM_URL: "http://127.0.0.1:1", TANDEM_TOKEN: t.adminToken });
      expect(away.checks[0]).toMatchObject({
        check: "server",
        ok: false,
        detail: expect.stringMatching(/^cannot reach http:\/\/127\.0\.0\.1:1 \(TANDEM_URL\): .*; start tandem server$/),
      });
      expect(away.code).toBe(1);
    } finally {
      await t.stop();
    }
  });

  it("checks Slurm through sinfo when steps default to it (a stand-in sinfo first on PATH)", async () => {
    const bin = join(tempDir(), "bin");
    mkdirSync(bin);
    const standIn = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    standIn("sbatch", "exit 1");
    standIn("sinfo", 'echo "sinfo: error: Unable to contact slurm controller (connect failure)" >&2; exit 1');
    const env = { TANDEM_HOME: join(tempDir(), "h"), PATH: `${bin}:${process.env.PATH}` };
    const slurm = (checks: Check[]) => checks.find((c) => c.detail.startsWith("slurm:"));
    const down = doctor({ ...env, TANDEM_EXECUTOR: "slurm" });
    expect(slurm(down.checks)).toEqual({
      check: "executors",
      ok: false,
      detail:
        "slurm: sinfo failed: sinfo: error: Unable to contact slurm controller (connect failure): start slurmctld or " +
        "point the Slurm clients at it (TANDEM_EXECUTOR=slurm sends every step there)",
    });
    expect(down.status).toBe(1);
    // Slurm's clients installed but steps not sent there by default: said, not a failure.
    expect(slurm(doctor(env).checks)).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^slurm: not usable \(/),
    });
    standIn("sinfo", "echo debug");
    expect(slurm(doctor({ ...env, TANDEM_EXECUTOR: "slurm" }).checks)).toEqual({
      check: "executors",
      ok: true,
      detail: "slurm: sinfo reaches the controller",
    });
  });

  it("checks Kubernetes by listing Jobs when steps default to it (the stand-in API server)", async () => {
    const api = await new KubernetesStandIn().start();
    try {
      const dir = tempDir();
      const kubeconfig = (server: string) => {
        const file = join(dir, `kubeconfig-${server.replace(/\W/g, "")}`);
        writeFileSync(
          file,
          JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "c", cluster: { server, "insecure-skip-tls-verify": true } }],
            users: [{ name: "u", user: { token: "stand-in" } }],
            contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
            "current-context": "x",
          }),
        );
        return file;
      };
      const run = async (server: string) => {
        const res = await cli(["doctor", "--json"], {
          cwd: dir,
          env: {
            TANDEM_HOME: join(dir, "h"),
            TANDEM_EXECUTOR: "kubernetes",
            TANDEM_K8S_NAMESPACE: "ml",
            KUBECONFIG: kubeconfig(server),
          },
        });
        return (JSON.parse(res.stdout) as Check[]).find((c) => c.detail.startsWith("kubernetes:"));
      };
      expect(await run(api.url)).toEqual({
        check: "executors",
        ok: true,
        detail: "kubernetes: Jobs can be listed in namespace ml",
      });
      expect(api.jobLists).toBe(1);
      const down = await run("http://127.0.0.1:1");
      expect(down?.ok).toBe(false);
      expect(down?.detail).toMatch(
        /^kubernetes: cannot list Jobs in namespace ml: .*; check KUBECONFIG \(or the pod's service account\)/,
      );
    } finally {
      await api.stop();
    }
  });

  it("reports a missing web UI, a missing Python and a nearly full disk with the fix", async () => {
    const home = tempDir();
    const config = loadConfig({ TANDEM_HOME: home, TANDEM_PYTHON: join(home, "no-python") });
    const checks = await runDoctor(config, { webDist: join(home, "no-web"), minFreeBytes: Number.MAX_SAFE_INTEGER });
    expect(byName(checks, "web UI")).toEqual({
      check: "web UI",
      ok: false,
      detail: `not built (no ${join(home, "no-web", "index.html")}): run npm run build:web`,
    });
    expect(byName(checks, "python")?.ok).toBe(false);
    expect(byName(checks, "python")?.detail).toMatch(/no-python not found: .*set TANDEM_PYTHON/);
    expect(byName(checks, "disk")?.ok).toBe(false);
    expect(byName(checks, "disk")?.detail).toMatch(/GiB free under .*: free space, or move TANDEM_HOME/);
  });

  it("prints aligned ok/FIX lines, coloured only when colour is on", () => {
    const checks = [
      { check: "store", ok: true, detail: "answers" },
      { check: "web UI", ok: false, detail: "run npm run build:web" },
    ];
    expect(formatChecks(checks, false)).toBe("ok      store   answers\nFIX     web UI  run npm run build:web");
    expect(formatChecks(checks, true)).toBe(
      "\u001b[32mok\u001b[39m      store   answers\n\u001b[31mFIX\u001b[39m     web UI  run npm run build:web",
    );
    const plain = doctor({ TANDEM_HOME: join(tempDir(), "h") }, []);
    expect(plain.stdout).toMatch(/^ok {6}store/);
    expect(plain.stdout).not.toContain("\u001b[");
    const forced = doctor({ TANDEM_HOME: join(tempDir(), "h"), FORCE_COLOR: "1" }, []);
    expect(forced.stdout).toContain("\u001b[32mok\u001b[39m");
    const refused = doctor({ TANDEM_HOME: join(tempDir(), "h"), FORCE_COLOR: "1", NO_COLOR: "1" }, []);
    expect(refused.stdout).not.toContain("\u001b[");
  });
});
