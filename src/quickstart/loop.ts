/**
 * `tandem quickstart`, stage by stage: a fresh home and server, January as a dataset version, the
 * `train` pipeline with a four-eyes approval, the next months replayed over HTTP with their true
 * labels, the monitor, the alert, the automatic retrain, the canary and its promotion (or refusal).
 * Every action goes through the HTTP API, as a user's own scripts would.
 */
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ApiError, type TandemApi } from "../cli/api.js";
import type { RunWire, StepWire } from "../cli/pipelines-progress.js";
import { VerdictError } from "../cli/context.js";
import { loadConfig } from "../config.js";
import { startServer, type RunningServer } from "../server/listen.js";
import {
  CANARY_REQUESTS,
  clientAs,
  ENDPOINT,
  MODEL,
  MONITOR,
  p,
  p95,
  PROJECT,
  replay,
  settledJudgement,
  waitUntilReady,
} from "./client.js";
import { delayedShare, FlightMonths, MONTHS, writeMonthCsv } from "./months.js";
import { followRun, POLL_MS, sleep, stepLog } from "./pipeline-follow.js";
import { exampleRepository, sendPush } from "./git-push.js";
import type { Progress } from "./progress.js";

export interface QuickstartOptions {
  /** A fresh, empty TANDEM_HOME. */
  home: string;
  /** The flights example project (tandem.yaml, steps/). */
  exampleDir: string;
  /** January flights to train the first champion on (default 100 000). */
  trainRows: number;
  /** Flights replayed through the endpoint per later month (default 2 000). */
  replayRows: number;
  /** Later months to replay at most, looking for drift (default 5: February–June). */
  months: number;
  /** Where the months come from; the caller may have started reading January (default: a new reader). */
  flights?: FlightMonths;
  progress: Progress;
}

interface CheckWire {
  check: string;
  passed: boolean;
  summary: string;
  details: Record<string, unknown>;
}
interface ResultWire {
  id: string;
  status: string;
  rows: number;
  labelled_rows: number;
  checks: CheckWire[];
  alert_id: string | null;
  error: string | null;
}

export interface QuickstartReport {
  url: string;
  home: string;
  janRows: number;
  janDelayedShare: number;
  champion: { version: number; metrics: Record<string, number>; fairness: Record<string, number> } | null;
  approval: { refusedForAuthor: string | null; approvedBy: string };
  months: Array<{ month: string; rows: number; delayedShare: number; status: string; checks: string[] }>;
  alert: { id: string; summary: string } | null;
  retrain: {
    runId: string;
    trigger: Record<string, unknown>;
    status: string;
    exportedRows: number | null;
    datasetVersion: number | null;
    challenger: number | null;
    challengerMetrics: Record<string, number>;
    championMetrics: Record<string, number>;
    refusal: string[];
  } | null;
  canary: { rows: number; byVersion: Record<string, number>; outcome: string; reasons: string[] } | null;
  /** The push's run of pipeline ci; null without git. */
  ci: { runId: string; status: string; commit: string } | null;
  maturity: { level: number; passed: number; total: number };
  reportFile: string;
  server: RunningServer;
}

const metricOf = (s: StepWire | undefined, k: string): number | null =>
  s && typeof s.metrics?.[k] === "number" ? s.metrics[k]! : null;

export async function runQuickstart(o: QuickstartOptions): Promise<QuickstartReport> {
  const flightMonths = o.flights ?? new FlightMonths();
  try {
    return await closedLoop(o, flightMonths);
  } finally {
    await flightMonths.close();
  }
}

/** Flights read per later month: a replay's, or the canary's if that is more (a head of the same sample). */
const monthRows = (o: QuickstartOptions): number => Math.max(o.replayRows, CANARY_REQUESTS);

async function closedLoop(o: QuickstartOptions, flightMonths: FlightMonths): Promise<QuickstartReport> {
  const { progress } = o;
  // January loads on DuckDB's threads while the server starts.
  flightMonths.prefetch(0, o.trainRows);
  await mkdir(join(o.home, "data"), { recursive: true });

  progress.begin("Start a Tandem server in a fresh home");
  const config = loadConfig({ TANDEM_HOME: o.home });
  // Its terminal shows the loop's progress: the server says only what went wrong (warn), not each request.
  const server = await startServer({
    config,
    host: "127.0.0.1",
    port: 0,
    handleSignals: false,
    defaultLogLevel: "warn",
  });
  const admin = await clientAs(config, server.url);
  const adminToken = admin.authToken!;
  progress.line(`listening on ${server.url} (home ${o.home}; SQLite + local artifacts)`);

  try {
    progress.begin(`Add January 2001 as dataset flights (${o.trainRows.toLocaleString("en")} sampled flights)`);
    progress.update("reading flights-3m.parquet");
    const jan = await flightMonths.sample(0, o.trainRows);
    flightMonths.prefetch(1, monthRows(o));
    const janFile = join(o.home, "data", "flights-2001-01.csv");
    await writeMonthCsv(janFile, jan);
    const blob = await admin.request<{ sha256: string }>("POST", p("/datasets/flights/blobs"), {
      stream: await readFile(janFile),
    });
    const size = (await stat(janFile)).size;
    const added = await admin.post<{ version: { version: number } }>(p("/datasets/flights/versions"), {
      kind: "file",
      entries: [{ path: "flights-2001-01.csv", sha256: blob.sha256, size }],
      message: `January 2001: ${jan.length} flights sampled from vega-datasets flights-3m.parquet`,
    });
    const janShare = delayedShare(jan);
    progress.line(
      `flights@${added.version.version}: ${jan.length} flights, ${(size / 1e6).toFixed(1)} MB CSV; delayed > 15 min: ${(janShare * 100).toFixed(1)}%`,
    );

    progress.begin("Apply examples/flights/tandem.yaml (committed to a git repository of its own); add approver dana");
    const repo = await exampleRepository(o.exampleDir);
    const workspace = repo?.dir ?? o.exampleDir;
    const source = await readFile(join(workspace, "tandem.yaml"), "utf8");
    const spec = await admin.post<{ version: number }>(p("/specs"), { source, file: "tandem.yaml", workspace });
    await admin.post("/api/v1/users", { name: "dana", display_name: "Dana (release approver)" });
    await admin.put(p("/members/dana"), { role: "approver" });
    const danaToken = (await admin.post<{ token: string }>("/api/v1/tokens", { name: "quickstart", user: "dana" }))
      .token;
    const dana = await clientAs(config, server.url, danaToken);
    progress.line(
      `spec version ${spec.version}: pipelines train + retrain + ci, policies release + retrain, monitor ${MONITOR}`,
    );
    // The push runs pipeline ci (the example's tests) beside train; its outcome is read at the end.
    const ciRunId = repo ? await sendPush(admin, server.url, repo) : null;
    progress.line(
      repo
        ? `push of ${repo.commit.slice(0, 8)} to main (${repo.dir}): webhook started ci run ${ciRunId}`
        : "git is not installed: no repository, so no push and no pipeline CI",
    );

    progress.begin(
      "Run pipeline train: validate → prepare → train → evaluate → fairness → register → approval → deploy",
    );
    const first = await admin.post<RunWire>(p("/pipelines/train/runs"), { params: {} });
    let refusedForAuthor: string | null = null;
    let approvedVersion: number | null = null;
    const trainRun = await followRun(admin, first.id, progress, async (s, run) => {
      if (s.name !== "approval" || s.status !== "running" || approvedVersion !== null) return;
      const version = metricOf(
        run.steps?.find((x) => x.name === "register"),
        "model_version",
      );
      if (version === null) return;
      approvedVersion = version;
      progress.line(`champion ${MODEL}@${version} awaits one approval (policy release)`);
      try {
        await admin.post(p(`/models/${MODEL}/versions/${version}/approve`), { comment: "my own model" });
      } catch (error) {
        refusedForAuthor = error instanceof ApiError ? error.message : String(error);
        progress.line(`four-eyes: the author's own approval is refused — ${refusedForAuthor}`);
      }
      const r = await dana.post<{ outcomes: Array<{ status: string }> }>(
        p(`/models/${MODEL}/versions/${version}/approve`),
        { comment: "metrics and fairness by airport size look fine" },
      );
      progress.line(`dana approves ${MODEL}@${version}: ${r.outcomes.map((x) => x.status).join(", ") || "recorded"}`);
    });
    if (trainRun.status !== "succeeded") throw new VerdictError(await failure(admin, trainRun));
    const steps = new Map((trainRun.steps ?? []).map((s) => [s.name, s]));
    const championVersion = metricOf(steps.get("register"), "model_version")!;
    const ev = steps.get("evaluate")?.metrics ?? {};
    const fair = steps.get("fairness")?.metrics ?? {};
    progress.line(
      `${MODEL}@${championVersion}: roc_auc ${fmt(ev.roc_auc)}, accuracy ${fmt(ev.accuracy)}, recall ${fmt(ev.recall)} on held-out January; ` +
        `recall gap by airport size (equal opportunity difference) ${fmt(fair["equal_opportunity_difference.origin_size"])}`,
    );
    progress.line(`endpoint ${ENDPOINT} serves ${MODEL}@${metricOf(steps.get("deploy"), "primary_version")}`);
    await waitUntilReady(server.url, adminToken, ENDPOINT);

    const months: QuickstartReport["months"] = [];
    let alert: QuickstartReport["alert"] = null;
    let monthIndex = 1;
    for (; monthIndex <= Math.min(o.months, MONTHS.length - 1) && !alert; monthIndex++) {
      const name = MONTHS[monthIndex]!.name;
      progress.begin(
        `Replay ${name}: ${o.replayRows.toLocaleString("en")} sampled flights over HTTP, true labels as feedback`,
      );
      progress.update("reading the month");
      const flights = await flightMonths.sample(monthIndex, o.replayRows);
      flightMonths.prefetch(monthIndex + 1, monthRows(o));
      const stats = await replay(server.url, adminToken, flights, {
        onProgress: (done) => progress.update(`${done}/${flights.length} flights`),
      });
      progress.line(
        `${stats.rows} predictions in ${stats.requests} requests (${stats.errors} errors); actually delayed ${(delayedShare(flights) * 100).toFixed(1)}%, predicted delayed ${((stats.predictedDelayed / Math.max(1, stats.rows)) * 100).toFixed(1)}%`,
      );
      const result = await admin.post<ResultWire>(p(`/monitors/${MONITOR}/run`), {});
      const checks = result.checks.map((c) => `${c.passed ? "ok  " : "FAIL"} ${c.check}: ${c.summary}`);
      for (const c of checks) progress.line(`monitor ${c}`);
      if (result.error) progress.line(`monitor error: ${result.error}`);
      months.push({
        month: name,
        rows: stats.rows,
        delayedShare: delayedShare(flights),
        status: result.status,
        checks,
      });
      if (result.status === "failing" && result.alert_id) {
        const a = await admin.get<{ id: string; annotations?: Record<string, string>; status: string }>(
          p(`/alerts/${result.alert_id}`),
        );
        alert = { id: a.id, summary: a.annotations?.summary ?? "" };
        progress.line(`alert ${MONITOR} firing (${a.id})`);
      }
    }

    let retrain: QuickstartReport["retrain"] = null;
    let canary: QuickstartReport["canary"] = null;
    if (alert) {
      progress.begin(
        `Retrain, started by alert ${MONITOR}: export traffic → prepare → train → evaluate vs champion → register → canary`,
      );
      let run: RunWire | undefined;
      for (let waited = 0; !run && waited < 60_000; waited += POLL_MS) {
        run = (await admin.get<{ runs: RunWire[] }>(p("/pipeline-runs"), { pipeline: "retrain", limit: 1 })).runs[0];
        if (!run) await sleep(POLL_MS);
      }
      if (!run) throw new VerdictError(`alert ${alert.id} fired but no retrain run started within 60 s`);
      const t = run.trigger as { kind?: string; name?: string; alert_id?: string };
      progress.line(
        `run ${run.id} started by ${t.kind ?? "?"} ${t.name ?? ""} (alert ${t.alert_id ?? "?"}), acting as system`,
      );
      const done = await followRun(admin, run.id, progress);
      const rs = new Map((done.steps ?? []).map((s) => [s.name, s]));
      const challenger = metricOf(rs.get("register"), "model_version");
      const challengerMetrics = rs.get("evaluate")?.metrics ?? {};
      let championMetrics: Record<string, number> = {};
      const evals = await admin
        .get<{ evaluations: Array<{ dataset: string; metrics: Record<string, number> }> }>(
          p(`/models/${MODEL}/versions/${championVersion}/evaluations`),
        )
        .catch(() => ({ evaluations: [] }));
      const newest = evals.evaluations.find((e) => Object.keys(e.metrics).length > 0);
      if (newest && evals.evaluations.length > 1) championMetrics = newest.metrics;
      const refusal = done.status === "succeeded" ? [] : await stepLog(admin, done.id, "register", 12);
      retrain = {
        runId: done.id,
        trigger: done.trigger,
        status: done.status,
        exportedRows: metricOf(rs.get("export"), "rows"),
        datasetVersion: metricOf(rs.get("export"), "dataset_version"),
        challenger,
        challengerMetrics,
        championMetrics,
        refusal,
      };
      progress.line(
        `on the fresh traffic's held-out rows: challenger roc_auc ${fmt(challengerMetrics.roc_auc)} vs champion ${fmt(championMetrics.roc_auc)}`,
      );
      if (done.status !== "succeeded") {
        progress.line(`retrain stopped: ${done.error ?? "a step failed"}`);
        for (const l of refusal.filter((x) => /fail|refus|beats|pending/i.test(x))) progress.line(`  ${l}`);
      }

      if (done.status === "succeeded" && monthIndex < MONTHS.length) {
        const name = MONTHS[monthIndex]!.name;
        const canaryFlights = monthRows(o);
        progress.begin(
          `Canary: replay ${name} (${canaryFlights.toLocaleString("en")} flights, one per request); 10% go to the challenger`,
        );
        const flights = await flightMonths.sample(monthIndex, canaryFlights);
        // Reading the month used to give serving time to load the canary; now it is waited for.
        if (retrain.challenger !== null)
          await waitUntilReady(server.url, adminToken, ENDPOINT, { version: retrain.challenger });
        // One flight per request: the canary judge wants 100 requests per arm before it judges (a
        // verdict on fewer is noise), and a 10% split of 1 500 gives the challenger about 150.
        const stats = await replay(server.url, adminToken, flights, {
          batch: 1,
          onProgress: (d) => progress.update(`${d}/${flights.length} flights`),
        });
        progress.line(
          `served by version: ${Object.entries(stats.byVersion)
            .map(([v, n]) => `${MODEL}@${v} ${n} flights`)
            .join(", ")}; ${stats.errors} errors`,
        );
        for (const [v, lat] of Object.entries(stats.latencyByVersion))
          progress.line(
            `${MODEL}@${v}: ${lat.length} requests, p95 ${p95(lat)?.toFixed(1)} ms (measured by the client)`,
          );
        let outcome = "promoted";
        let reasons: string[] = [];
        // The serving controller judges the canary's SLOs on every tick; a breach blocks it and moves
        // traffic back. Read its judgement once the prediction log has flushed the replay's stats.
        const ep = await settledJudgement(admin, stats.requests);
        const j = ep.canary_judgement;
        const judged = j?.slos.length ? j.slos.map((s) => `${s.passed ? "ok  " : "FAIL"} ${s.summary}`) : [];
        if (j && j.slos.length === 0) judged.push(`canary judge: ${j.reason}`);
        for (const line of judged) progress.line(line);
        if (ep.blocked_canary_version !== null || ep.canary_version === null) {
          outcome = "rolled back";
          const breach = ep.events.find((e) => e.kind === "slo_breach");
          reasons = [
            `the canary ${MODEL}@${ep.blocked_canary_version ?? "?"} broke its SLO; serving kept the champion`,
            ...(breach ? [breach.message] : []),
          ];
          for (const r of reasons) progress.line(r);
        } else
          try {
            type EndpointWire = { primary_version: number | null; canary_version: number | null; rollout: unknown };
            // Promoting moves champion to the canary's version under the policies that govern champion
            // and the endpoint (release: its unless rule — beat the champion on fresh flights, held the
            // canary — needs no human); an endpoint with a canary then rolls the new champion out
            // through the canary slot, and a second promote ends that rollout with the version as primary.
            let e = await admin.post<EndpointWire>(p(`/endpoints/${ENDPOINT}/promote`), {});
            progress.line(
              `${MODEL}@champion → ${retrain.challenger} (policy release: beat the champion and held its canary, no human needed)`,
            );
            if (e.primary_version !== retrain.challenger && e.rollout)
              e = await admin.post<EndpointWire>(p(`/endpoints/${ENDPOINT}/promote`), {});
            progress.line(`endpoint ${ENDPOINT} now serves ${MODEL}@${e.primary_version} as primary`);
            if (e.primary_version !== retrain.challenger) outcome = `not promoted (primary is @${e.primary_version})`;
          } catch (error) {
            outcome = "refused";
            reasons = [error instanceof Error ? error.message : String(error)];
            const details = error instanceof ApiError ? error.details : null;
            if (details && typeof details === "object" && "checks" in details)
              reasons.push(
                ...(details as { checks: Array<{ check: string; outcome: string; detail?: string }> }).checks
                  .filter((c) => c.outcome !== "pass")
                  .map((c) => `${c.check}: ${c.outcome}${c.detail ? ` (${c.detail})` : ""}`),
              );
            for (const r of reasons) progress.line(`refused: ${r}`);
          }
        // The summary says why: the breach, the refusal, or the SLOs the canary held.
        canary = { rows: stats.rows, byVersion: stats.byVersion, outcome, reasons: reasons.length ? reasons : judged };
      }
    }

    let ci: QuickstartReport["ci"] = null;
    if (ciRunId) {
      progress.begin("Pipeline CI: the push's run of ci (the example's own tests)");
      const done = await followRun(admin, ciRunId, progress);
      ci = { runId: done.id, status: done.status, commit: repo!.commit };
    }
    const maturity = await admin.get<QuickstartReport["maturity"]>(p("/maturity"));

    progress.begin("Write the monitor's HTML report");
    const html = await admin.raw("GET", p(`/monitors/${MONITOR}/report.html`));
    const reportFile = join(o.home, "flights-drift-report.html");
    await writeFile(reportFile, html.body);
    progress.line(reportFile);
    progress.end();

    const fairness: Record<string, number> = {};
    for (const [k, v] of Object.entries(fair))
      if (k.endsWith(".origin_size")) fairness[k.replace(/\.origin_size$/, "")] = v;
    return {
      url: server.url,
      home: o.home,
      janRows: jan.length,
      janDelayedShare: janShare,
      champion: { version: championVersion, metrics: ev, fairness },
      approval: { refusedForAuthor, approvedBy: "dana" },
      months,
      alert,
      retrain,
      canary,
      ci,
      maturity,
      reportFile,
      server,
    };
  } catch (error) {
    progress.end();
    await server.stop();
    throw error;
  }
}

function fmt(v: number | undefined | null): string {
  return typeof v === "number" ? v.toFixed(3) : "-";
}

async function failure(api: TandemApi, run: RunWire): Promise<string> {
  const failed = (run.steps ?? []).find((s) => s.status === "failed");
  if (!failed) return `pipeline run ${run.id} ${run.status}: ${run.error ?? ""}`;
  const tail = await stepLog(api, run.id, failed.name, 15);
  return `pipeline ${run.pipeline} failed at step ${failed.name}: ${failed.error ?? ""}\n${tail.join("\n")}`;
}

export { PROJECT };
