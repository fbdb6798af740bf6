/**
 * Chaos (issue 17 §4): two `tandem server` processes on one Postgres with artifacts in s3rver, a
 * 30-step pipeline (half of it on the local Slurm cluster when one runs here, else all local), a
 * schedule firing every 3 seconds, and alerts raised throughout to a local webhook receiver. One
 * server at a time is killed with -9 at random moments and started again, at least 6 times. Then:
 * no run was lost and every step of every run (chain and tick) succeeded, each schedule tick started
 * one run, each alert was delivered once, and no Slurm job was submitted twice (sacct). A step that
 * did not succeed fails the test with its record and whole log, and the history of server kills and
 * starts (chaos-report.ts), so a failure in CI explains itself.
 *
 * Bounded: the chaos lasts about 40 s and the whole test stays well under 5 minutes (about 100 s at
 * load 14 on 2 cores). Every wait draws on one budget that ends before vitest's own timeout, so a
 * run that takes too long fails saying what it waited for, and where each run and server stood,
 * never with a bare "test timed out". The random choices come from a seed printed at the start
 * (TANDEM_CHAOS_SEED replays one).
 *
 * What it found last: in about 1 run of 8 a local step exited 1 some 20 ms after it started. Its log
 * said `bwrap: Can't bind mount /oldroot/dev/null on …/shared/audit.head`: the servers share the audit
 * head file, which steps are kept from by a bind mount onto its path, and it was replaced by a rename
 * on every audited action. Not the kills at all; the head is now rewritten in place
 * (audit-head-file.ts, test/security/audit-head-sandbox.test.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../helpers/seeded.js";
import { failedStepsReport, ServerHistory } from "./chaos-report.js";
import { sacctByName, slurmCluster } from "../helpers/slurm.js";
import { startTestS3 } from "../helpers/s3.js";
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

const P = "/api/v1/projects/default";
const slurmMissing = slurmCluster();
if (slurmMissing) console.warn(`chaos test: every step local (${slurmMissing})`);

/** 30 steps in 3 layers of 10; each step needs one of the layer before; odd ones on Slurm when it runs. */
function chainSpec(withSchedule: boolean): string {
  const lines = ["project: default", "pipelines:", "  chain:", "    steps:"];
  for (let layer = 0; layer < 3; layer++)
    for (let i = 0; i < 10; i++) {
      const name = `l${layer}s${i}`;
      lines.push(`      ${name}:`);
      lines.push(`        run: sleep 0.${3 + ((layer * 10 + i) % 5)} && echo ${name} done`);
      if (layer > 0) lines.push(`        needs: [l${layer - 1}s${i}]`);
      // A Slurm job that names no memory is given the whole node's (CR_Core_Memory), so the 15 ran one
      // at a time; 200 MiB (the agent needs about 60) lets them share the node's CPUs.
      if (!slurmMissing && i % 2 === 1) lines.push("        executor: slurm", "        resources: { memory: 200Mi }");
    }
  lines.push("  tick:");
  if (withSchedule) lines.push("    triggers:", '      - schedule: "*/3 * * * * *"');
  lines.push("    steps:", "      hello:", "        run: echo tick");
  return `${lines.join("\n")}\n`;
}

interface RunWire {
  id: string;
  status: string;
  pipeline: string;
  trigger: { kind?: string; scheduled_for?: string };
  steps?: Array<{
    name: string;
    status: string;
    attempt: number;
    remote_job: string | null;
    executor: string | null;
    error: string | null;
  }>;
}

/** vitest's timeout for the test; the budget below ends 20 s before it, so the test fails first, saying why. */
const TEST_TIMEOUT_MS = 300_000;

/**
 * One deadline for every wait of the test: `within(what, work)` fails with what it waited for and
 * `context()` (where the runs and servers stand) once the budget is spent.
 */
function budget(totalMs: number, context: () => Promise<string>) {
  const end = Date.now() + totalMs;
  const left = () => end - Date.now();
  return {
    left,
    async within<T>(what: string, work: (ms: number) => Promise<T>): Promise<T> {
      const ms = left();
      let timer: NodeJS.Timeout | undefined;
      const out = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`out of time (${Math.round(totalMs / 1000)} s budget)`)), ms);
      });
      try {
        return await Promise.race([work(ms), out]);
      } catch (error) {
        const where = await context().catch((e: Error) => `(could not look: ${e.message})`);
        throw new Error(`chaos: waiting for ${what}: ${(error as Error).message}\n${where}`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

describe.skipIf(!postgresAvailable())("chaos: kill -9 of random servers", () => {
  const servers = new Map<string, ServerProcess>();
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const s of servers.values()) await killHard(s);
    for (const c of cleanups.reverse()) await c();
  });

  it(
    "loses no run, runs each step and tick once and delivers each alert once",
    async () => {
      const began = Date.now();
      const seed = Number(process.env.TANDEM_CHAOS_SEED ?? Date.now() % 100_000);
      console.log(`chaos seed ${seed} (TANDEM_CHAOS_SEED=${seed} replays it)`);
      const rand = mulberry32(seed);
      const history = new ServerHistory(began);
      const db = await freshPostgresDatabase();
      cleanups.push(db.cleanup);
      const s3 = await startTestS3();
      cleanups.push(() => s3.stop());
      const receiver = await startReceiver();
      cleanups.push(() => receiver.close());
      const cluster = newCluster((db.database as { url: string }).url, {
        TANDEM_ARTIFACTS: "s3://chaos/artifacts",
        TANDEM_S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        TANDEM_LOG_LEVEL: "warn",
        TANDEM_SLURM_POLL_MS: "300",
        // A layer's 10 steps at once (local steps are sleeps; Slurm's own CPUs bound its jobs).
        TANDEM_CONCURRENCY: "10",
      });
      // The servers share the Slurm job directory (a shared filesystem on a real cluster); the step user
      // must be able to enter it, so it is not under the cluster's private root.
      const slurmDir = mkdtempSync("/tmp/tandem-chaos-slurm-");
      cleanups.push(() => rmSync(slurmDir, { recursive: true, force: true }));
      cluster.env.TANDEM_SLURM_DIR = slurmDir;
      cleanups.push(() => rmSync(cluster.root, { recursive: true, force: true }));

      // Where everything stands, for a failure's message: each unfinished run step by step, each server.
      let token = "";
      const urls = new Map<string, string>();
      const anyUrl = () => [...urls.values()][Math.floor(rand() * urls.size)]!;
      const listRuns = async (pipeline: string) =>
        (await api<{ runs: RunWire[] }>(anyUrl(), token, "GET", `${P}/pipeline-runs?pipeline=${pipeline}&limit=500`))
          .body.runs;
      const standing = async (): Promise<string> => {
        const lines = [...servers.values()].map((s) =>
          s.child.exitCode !== null || s.child.signalCode !== null
            ? `server ${s.name} exited (${s.child.exitCode ?? s.child.signalCode}):\n${s.output().slice(-3000)}`
            : `server ${s.name} (pid ${s.child.pid}) is up; its last output:\n${s.output().slice(-800)}`,
        );
        if (!token || !urls.size) return lines.join("\n");
        const runs = [...(await listRuns("chain")), ...(await listRuns("tick"))].filter((r) =>
          ["queued", "running"].includes(r.status),
        );
        for (const r of runs) {
          const run = await api<RunWire>(anyUrl(), token, "GET", `${P}/pipeline-runs/${r.id}`);
          const open = (run.body.steps ?? []).filter((st) => st.status !== "succeeded");
          lines.push(
            `${r.pipeline} ${r.id} ${r.status}: ${open.map((st) => `${st.name} ${st.status} attempt ${st.attempt} ${st.executor ?? ""} ${st.remote_job ?? ""} ${st.error ?? ""}`).join("; ")}`,
          );
        }
        lines.push(`alerts delivered: ${receiver.received.length}`, "servers:", ...history.lines());
        return history.label(lines.join("\n"));
      };
      const time = budget(TEST_TIMEOUT_MS - 20_000 - (Date.now() - began), standing);

      const start = async (name: string) => {
        const s = startServerProcess(cluster, name);
        servers.set(name, s);
        history.started(name, s.child.pid);
        const url = await time.within(`server ${name} to listen`, () => s.url);
        urls.set(name, url);
      };
      await start("a");
      token = adminTokenOf(cluster, "a");
      await start("b");

      expect((await api(anyUrl(), token, "POST", `${P}/alert-receivers`, { url: receiver.url })).status).toBe(201);
      const applied = await api(anyUrl(), token, "POST", `${P}/specs`, {
        source: chainSpec(true),
        file: "tandem.yaml",
      });
      expect(applied.status, JSON.stringify(applied.body)).toBe(201);

      const started: string[] = [];
      const alerts: string[] = [];
      const startChain = async () => {
        const r = await api<RunWire>(anyUrl(), token, "POST", `${P}/pipelines/chain/runs`, { no_cache: true });
        if (r.status === 202) started.push(r.body.id);
      };
      const raiseAlert = async () => {
        const name = `chaos-${alerts.length}`;
        const r = await api(anyUrl(), token, "POST", `${P}/alerts`, {
          alerts: [{ status: "firing", labels: { alertname: name, severity: "warning" } }],
        });
        if (r.status === 200) alerts.push(name);
      };

      // The chaos: a kill -9 of a random server every 3-7 s, restarted at once; runs and alerts meanwhile.
      await startChain();
      let kills = 0;
      while (kills < 6) {
        await new Promise((r) => setTimeout(r, 3000 + rand() * 4000));
        await raiseAlert().catch(() => undefined);
        if (kills === 2) await startChain().catch(() => undefined);
        const victim = rand() < 0.5 ? "a" : "b";
        urls.delete(victim);
        history.killed(servers.get(victim)!.child.pid);
        await killHard(servers.get(victim)!);
        kills++;
        await start(victim);
      }
      await raiseAlert();

      // Quiet down: no more schedule ticks; every run finishes.
      await api(anyUrl(), token, "POST", `${P}/specs`, { source: chainSpec(false), file: "tandem.yaml" });
      await time.within("every run to finish", (ms) =>
        until(
          "every run to finish",
          async () => {
            const runs = [...(await listRuns("chain")), ...(await listRuns("tick"))];
            return runs.every((r) => !["queued", "running"].includes(r.status));
          },
          ms,
        ),
      );

      // No run lost; every step of every chain run succeeded, once each (a single succeeded record).
      const chains = await listRuns("chain");
      expect(chains.map((r) => r.id).sort()).toEqual([...started].sort());
      // A step that did not succeed (of a chain run or a tick) fails the test with its record and log.
      const reports: string[] = [];
      for (const run of [...chains, ...(await listRuns("tick"))]) {
        const report = await failedStepsReport({
          get: async (path) => (await api<never>(anyUrl(), token, "GET", path)).body,
          runPath: `${P}/pipeline-runs/${run.id}`,
          began,
          history,
        });
        if (report) reports.push(report);
      }
      expect(reports, [`seed ${seed}`, ...reports, "servers:", ...history.lines()].join("\n")).toEqual([]);
      const sacctDeadline = Date.now() + 30_000;
      for (const run of chains) {
        const full = await api<RunWire>(anyUrl(), token, "GET", `${P}/pipeline-runs/${run.id}`);
        expect(full.body.steps).toHaveLength(30);
        expect(full.body.steps!.filter((s) => s.status !== "succeeded")).toEqual([]);
        expect(full.body.status, `run ${run.id}`).toBe("succeeded");
        // Slurm steps: at most one job per attempt, never a duplicate submission (reattached, not
        // resubmitted), and one that completed. A driver that died after counting an attempt and
        // before storing its job id (seed 64752) leaves the attempt to its successor, which adopts the
        // job or submits it under the same number (slurm-restart.test.ts).
        if (!slurmMissing)
          for (const step of full.body.steps!.filter((s) => s.executor === "slurm")) {
            const jobName = `tandem.default.chain.${step.name}.${run.id.slice(0, 8)}`;
            // slurmctld hands finished jobs to slurmdbd asynchronously, so sacct can lag the state the
            // executor read (squeue's word, past its 15 s grace): a final CI run found no row yet for a
            // step that had succeeded. Ask again until the row is there, up to 30 s for all steps.
            let jobs = sacctByName(jobName, "JobID,State");
            while (!jobs.some(([, state]) => state === "COMPLETED") && Date.now() < sacctDeadline) {
              await new Promise((r) => setTimeout(r, 500));
              jobs = sacctByName(jobName, "JobID,State");
            }
            const said = `${jobName}: ${JSON.stringify(jobs)} for ${step.attempt} attempts`;
            expect(jobs.length, said).toBeGreaterThanOrEqual(1);
            expect(jobs.length, said).toBeLessThanOrEqual(step.attempt);
            expect(
              jobs.filter(([, state]) => state === "COMPLETED"),
              said,
            ).toHaveLength(1);
          }
      }

      // Each schedule tick started one run.
      const ticks = (await listRuns("tick")).map((r) => r.trigger.scheduled_for);
      expect(ticks.length).toBeGreaterThanOrEqual(5);
      expect(new Set(ticks).size).toBe(ticks.length);

      // Each alert delivered once (a second delivery would come within the 2 s looked at after).
      await time.within(`${alerts.length} alerts delivered`, (ms) =>
        until("every alert delivered", () => receiver.received.length >= alerts.length, ms),
      );
      await new Promise((r) => setTimeout(r, 2000));
      const delivered = receiver.received.flatMap((n) => n.alerts.map((x) => x.labels.alertname));
      // A server killed while it sent one leaves the delivery to another after 60 s: at least once, by design.
      expect(delivered.sort(), history.lines().join("\n")).toEqual([...alerts].sort());
      console.log(
        `chaos: ${kills} kills, ${chains.length} chain runs, ${ticks.length} ticks, ${alerts.length} alerts, slurm ${slurmMissing ? "off" : "on"}, ${Math.round((Date.now() - began) / 1000)} s`,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
