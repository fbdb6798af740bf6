/** The quickstart's closing summary: what happened, with the numbers, and where to look next. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { WEB_DIST } from "../server/web-ui.js";
import type { QuickstartReport } from "./loop.js";
import { ENDPOINT, MODEL, MONITOR, PROJECT } from "./client.js";

const f = (v: number | undefined | null, d = 3): string => (typeof v === "number" ? v.toFixed(d) : "-");

/** Where `tandem server` listens on this home when started without options (its defaults). */
const DEFAULT_SERVER_URL = "http://127.0.0.1:7300";

/**
 * Whether the quickstart keeps its server running after the summary: `--keep` and `--exit` decide;
 * otherwise only for a person at a terminal (stdout a TTY, not CI), so scripts and CI still end.
 */
export function keepsServing(o: { keep?: boolean; exit?: boolean; stdoutIsTTY: boolean; ci: boolean }): boolean {
  if (o.keep) return true;
  if (o.exit) return false;
  return o.stdoutIsTTY && !o.ci;
}

/**
 * The summary. `serving`: the quickstart's server keeps running, so the links point at it; else it
 * has stopped, and the links point where `tandem server` on the same home will listen.
 */
export function formatSummary(r: QuickstartReport, seconds: number, serving: boolean): string {
  const base = serving ? r.url : DEFAULT_SERVER_URL;
  const ui = (path: string) => `${base}/p/${PROJECT}/${path}`;
  const out: string[] = ["", `Tandem quickstart: the closed loop in ${seconds.toFixed(0)} s`, ""];
  out.push(
    `Data      flights@1: January 2001, ${r.janRows} flights, ${(r.janDelayedShare * 100).toFixed(1)}% delayed > 15 min`,
  );
  if (r.champion) {
    const m = r.champion.metrics;
    out.push(
      `Champion  ${MODEL}@${r.champion.version} (gradient boosting): roc_auc ${f(m.roc_auc)}, accuracy ${f(m.accuracy)}, recall ${f(m.recall)} on held-out January`,
      `Fairness  recall gap across airport sizes (equal opportunity difference): ${f(r.champion.fairness.equal_opportunity_difference)}`,
      `Approval  four-eyes: the author's own approval ${r.approval.refusedForAuthor ? "was refused" : "was not tried"}; ${r.approval.approvedBy} (approver) approved`,
    );
  }
  for (const m of r.months)
    out.push(
      `Replayed  ${m.month}: ${m.rows} flights, ${(m.delayedShare * 100).toFixed(1)}% delayed → monitor ${m.status}`,
    );
  if (r.months.length) {
    const last = r.months[r.months.length - 1]!;
    for (const c of last.checks) out.push(`          ${c}`);
  }
  out.push(
    r.alert
      ? `Alert     ${MONITOR} fired (${r.alert.id})`
      : `Alert     none: the monitor found no drift in the replayed months`,
  );
  if (r.retrain) {
    const t = r.retrain;
    out.push(
      `Retrain   run ${t.runId} (trigger: ${String(t.trigger.kind ?? "?")} ${String(t.trigger.name ?? t.trigger.alert ?? "")}) ${t.status}; ` +
        `trained on flights@1 + flights-traffic@${t.datasetVersion ?? "-"} (${t.exportedRows ?? "-"} labelled flights of traffic)`,
      `Before    champion on held-out fresh flights: roc_auc ${f(t.championMetrics.roc_auc)}, accuracy ${f(t.championMetrics.accuracy)}`,
      `After     challenger ${t.challenger !== null ? `${MODEL}@${t.challenger}` : "-"}: roc_auc ${f(t.challengerMetrics.roc_auc)}, accuracy ${f(t.challengerMetrics.accuracy)}`,
    );
    for (const l of t.refusal.filter((x) => /FAIL|fail|refus/.test(x))) out.push(`          ${l}`);
  }
  if (r.canary) {
    out.push(
      `Canary    ${Object.entries(r.canary.byVersion)
        .map(([v, n]) => `@${v}: ${n}`)
        .join(", ")} flights → ${r.canary.outcome}`,
    );
    for (const reason of r.canary.reasons) out.push(`          ${reason}`);
  }
  if (r.ci) out.push(`CI        push of ${r.ci.commit.slice(0, 8)} to main → pipeline ci (its tests) ${r.ci.status}`);
  out.push(
    `maturity: level ${r.maturity.level} (${r.maturity.passed}/${r.maturity.total} criteria) — tandem maturity --project ${PROJECT}`,
  );
  out.push(
    "",
    serving
      ? `Look around while the server runs (sign in with the token in ${r.home}/admin.token):`
      : `The quickstart's server has stopped. To look around, start one on its home:\n` +
          `  TANDEM_HOME=${r.home} npx tandem server\n` +
          `then open (sign in with the token in ${r.home}/admin.token):`,
    ...(existsSync(join(WEB_DIST, "index.html"))
      ? []
      : ["  (the web UI is not built in this checkout yet: run npm run build:web first)"]),
    `  pipeline runs  ${ui("pipeline-runs")}`,
    `  models         ${ui(`models/${MODEL}`)}`,
    `  endpoint       ${ui(`endpoints/${ENDPOINT}`)}`,
    `  monitoring     ${ui("monitoring")}`,
    `  HTML report    ${r.reportFile}  (tandem monitors report ${MONITOR} --html FILE)`,
    `  CLI            TANDEM_HOME=${r.home} npx tandem runs ls --project ${PROJECT}`,
  );
  return out.join("\n");
}
