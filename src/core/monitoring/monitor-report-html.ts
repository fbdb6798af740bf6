/**
 * `tandem monitors report NAME --html FILE`: one self-contained page for a monitor — the newest
 * window's per-feature drift (the one-shot drift report's sections) and, over every stored window,
 * the drift share, the performance metric and the fairness value as inline SVG line charts.
 * No scripts, fonts or network requests: it opens offline.
 */
import type { DriftReport } from "./drift.js";
import type { MonitorDefinition, MonitorResult } from "./monitors/model.js";
import { renderDriftHtml } from "./report-html.js";

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

interface Point {
  at: number;
  value: number;
}

/** A small line chart with its threshold as a dashed line. */
export function lineChartSvg(title: string, points: Point[], threshold: number | null): string {
  const W = 640;
  const H = 160;
  const P = 32;
  if (points.length === 0) return `<p class="muted">${esc(title)}: no values yet.</p>`;
  const xs = points.map((p) => p.at);
  const ys = points.map((p) => p.value).concat(threshold === null ? [] : [threshold]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => P + (x1 === x0 ? (W - 2 * P) / 2 : ((x - x0) / (x1 - x0)) * (W - 2 * P));
  const sy = (y: number) => H - P - ((y - y0) / (y1 - y0)) * (H - 2 * P);
  const path = points.map((p, i) => `${i ? "L" : "M"}${sx(p.at).toFixed(1)},${sy(p.value).toFixed(1)}`).join(" ");
  const dots = points
    .map(
      (p) =>
        `<circle cx="${sx(p.at).toFixed(1)}" cy="${sy(p.value).toFixed(1)}" r="2.5" class="cur"><title>${new Date(p.at).toISOString()}: ${p.value.toPrecision(4)}</title></circle>`,
    )
    .join("");
  const th =
    threshold === null
      ? ""
      : `<line x1="${P}" x2="${W - P}" y1="${sy(threshold).toFixed(1)}" y2="${sy(threshold).toFixed(1)}" stroke="#b42318" stroke-dasharray="4 3"/><text x="${W - P}" y="${(sy(threshold) - 4).toFixed(1)}" text-anchor="end">threshold ${threshold}</text>`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<line class="axis" x1="${P}" x2="${W - P}" y1="${H - P}" y2="${H - P}"/><line class="axis" x1="${P}" x2="${P}" y1="${P}" y2="${H - P}"/>
<text x="${P}" y="${H - 8}">${esc(new Date(x0).toISOString().slice(0, 16))}</text><text x="${W - P}" y="${H - 8}" text-anchor="end">${esc(new Date(x1).toISOString().slice(0, 16))}</text>
<text x="4" y="${P}">${y1.toPrecision(3)}</text><text x="4" y="${H - P}">${y0.toPrecision(3)}</text>
${th}<path d="${path}" fill="none" stroke="#0969da" stroke-width="1.5"/>${dots}</svg></figure>`;
}

function series(results: MonitorResult[], check: string, pick: (d: Record<string, unknown>) => unknown): Point[] {
  const out: Point[] = [];
  for (const r of [...results].reverse()) {
    const c = r.checks.find((x) => x.check === check);
    const v = c ? pick(c.details) : undefined;
    if (typeof v === "number" && Number.isFinite(v)) out.push({ at: r.windowEnd, value: v });
  }
  return out;
}

/** The newest window's data-drift details back in the one-shot report's shape. */
function latestDrift(results: MonitorResult[]): DriftReport | null {
  for (const r of results) {
    const d = r.checks.find((c) => c.check === "data_drift")?.details as Record<string, unknown> | undefined;
    if (!d || !Array.isArray(d.columns)) continue;
    return {
      datasetDrift: Boolean(d.dataset_drift),
      shareDrifted: Number(d.share_drifted),
      driftShare: Number(d.drift_share),
      referenceRows: Number(d.reference_rows),
      currentRows: Number(d.current_rows),
      skipped: (d.skipped as DriftReport["skipped"]) ?? [],
      columns: (d.columns as Array<Record<string, unknown>>).map((c) => ({
        name: String(c.name),
        type: c.type as DriftReport["columns"][number]["type"],
        test: c.test as DriftReport["columns"][number]["test"],
        statistic: Number(c.statistic),
        pValue: c.p_value === null ? null : Number(c.p_value),
        threshold: Number(c.threshold),
        drift: Boolean(c.drift),
        histogram: c.histogram as DriftReport["columns"][number]["histogram"],
      })),
    };
  }
  return null;
}

/** `results` newest first, as the API lists them. */
export function renderMonitorHtml(def: MonitorDefinition, results: MonitorResult[], generatedAt = Date.now()): string {
  const title = `Monitor ${def.name}`;
  const drift = latestDrift(results);
  const driftPage = drift ? renderDriftHtml(drift, { title: `Newest window: data drift`, generatedAt }) : null;
  const style = driftPage
    ? (/<style>([\s\S]*?)<\/style>/.exec(driftPage)?.[1] ?? "")
    : "body{font:14px system-ui;margin:2rem auto;max-width:60rem}";
  const newest = results[0];
  const sampledNote = newest?.sampled
    ? `<p class="muted">The newest window held ${newest.sampled.of} rows, more than the monitor reads (max_rows): its checks ran on a uniform sample, sampled: ${newest.sampled.rows} of ${newest.sampled.of}.</p>\n`
    : "";
  const driftBody =
    sampledNote +
    (driftPage
      ? (/<body>([\s\S]*)<\/body>/.exec(driftPage)?.[1] ?? "")
      : `<p class="muted">No data-drift result yet.</p>`);
  const perf = def.checks.find((c) => c.kind === "performance");
  const fair = def.checks.find((c) => c.kind === "fairness");
  const charts = [
    lineChartSvg(
      "Share of drifted features per window",
      series(results, "data_drift", (d) => d.share_drifted),
      drift?.driftShare ?? 0.5,
    ),
    perf && perf.kind === "performance"
      ? lineChartSvg(
          `Performance: ${perf.metric} per window`,
          series(results, "performance", (d) => d.value),
          perf.min ?? perf.max ?? null,
        )
      : "",
    fair && fair.kind === "fairness"
      ? lineChartSvg(
          `Fairness: ${fair.metric} by ${fair.attribute} per window`,
          series(results, "fairness", (d) => d.value),
          fair.max ?? fair.min ?? null,
        )
      : "",
    lineChartSvg(
      "Target drift statistic per window",
      series(results, "target_drift", (d) => (d.columns as Array<{ statistic: number }> | undefined)?.[0]?.statistic),
      null,
    ),
  ].join("\n");
  const rows = results
    .map(
      (r) =>
        `<tr class="${r.status === "failing" ? "drift" : ""}"><td>${esc(new Date(r.windowEnd).toISOString())}</td><td>${esc(r.status)}</td><td>${r.rows}${r.sampled ? ` (sampled: ${r.sampled.rows} of ${r.sampled.of})` : ""}</td><td>${r.labelledRows}</td><td>${esc(
          r.checks
            .filter((c) => !c.passed)
            .map((c) => c.check)
            .join(", ") || "—",
        )}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${style}
figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}</style></head><body>
<h1>${esc(title)}</h1>
<p class="muted">Watches ${def.endpoint ? `endpoint ${esc(def.endpoint)}` : `dataset ${esc(def.dataset ?? "")}`} against ${esc(def.reference ?? "no reference")} · ${results.length} windows · generated ${esc(new Date(generatedAt).toISOString())}</p>
<h2>Over time</h2>
${charts}
<div class="scroll"><table><thead><tr><th>window end</th><th>status</th><th>rows</th><th>labelled</th><th>failed checks</th></tr></thead><tbody>
${rows}
</tbody></table></div>
<h2>Newest window</h2>
${driftBody}
</body></html>
`;
}
