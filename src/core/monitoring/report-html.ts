/**
 * The drift report as one self-contained HTML page: inline CSS and inline SVG histograms, no scripts,
 * fonts or network requests, so it opens offline and can be attached to a ticket. Per column: the
 * reference vs current distribution, the test, its statistic, the threshold and the verdict.
 */
import type { ColumnDrift, DriftReport, Histogram } from "./drift.js";

export interface DriftHtmlOptions {
  title?: string;
  /** How the two inputs are named on the page (default "reference" / "current"). */
  referenceLabel?: string;
  currentLabel?: string;
  /** Shown in the header (ms since the epoch; default now). */
  generatedAt?: number;
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function fmt(x: number | null): string {
  if (x === null) return "—";
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e6)) return x.toExponential(3);
  // Four significant digits, trailing zeros dropped: 0.05, 0.2767, 82.1.
  return String(Number(x.toPrecision(4)));
}

const W = 360;
const H = 140;
const PAD = 24;

/** Grouped bars (reference, current) per bin or category, heights as shares of each side's rows. */
function histogramSvg(name: string, h: Histogram): string {
  const n = h.reference.length;
  if (n === 0) return "";
  const max = Math.max(...h.reference, ...h.current, 1e-12);
  const slot = (W - PAD * 2) / n;
  const bar = Math.max(1, slot / 2 - 1);
  const bars: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = PAD + i * slot;
    const rh = (h.reference[i]! / max) * (H - PAD * 2);
    const ch = (h.current[i]! / max) * (H - PAD * 2);
    const label = h.labels ? h.labels[i]! : `${fmt(h.edges![i]!)} – ${fmt(h.edges![i + 1]!)}`;
    bars.push(
      `<rect class="ref" x="${x.toFixed(1)}" y="${(H - PAD - rh).toFixed(1)}" width="${bar.toFixed(1)}" height="${rh.toFixed(1)}"><title>${esc(label)}: reference ${(h.reference[i]! * 100).toFixed(1)}%</title></rect>`,
      `<rect class="cur" x="${(x + bar + 1).toFixed(1)}" y="${(H - PAD - ch).toFixed(1)}" width="${bar.toFixed(1)}" height="${ch.toFixed(1)}"><title>${esc(label)}: current ${(h.current[i]! * 100).toFixed(1)}%</title></rect>`,
    );
  }
  const axis = h.edges
    ? `<text x="${PAD}" y="${H - 6}">${esc(fmt(h.edges[0]!))}</text><text x="${W - PAD}" y="${H - 6}" text-anchor="end">${esc(fmt(h.edges[h.edges.length - 1]!))}</text>`
    : h.labels!.length <= 8
      ? h
          .labels!.map(
            (l, i) =>
              `<text x="${(PAD + i * slot + slot / 2).toFixed(1)}" y="${H - 6}" text-anchor="middle">${esc(l.slice(0, 10))}</text>`,
          )
          .join("")
      : `<text x="${PAD}" y="${H - 6}">${h.labels!.length} most frequent values</text>`;
  return `<svg role="img" aria-label="${esc(name)}: reference vs current distribution" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" class="chart"><line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" class="axis"/>${bars.join("")}${axis}</svg>`;
}

function columnSection(c: ColumnDrift): string {
  const verdict = c.drift ? `<span class="bad">drift</span>` : `<span class="ok">no drift</span>`;
  const rule =
    c.pValue !== null
      ? `p-value ${fmt(c.pValue)} (drifts when &lt; ${fmt(c.threshold)})`
      : `drifts when ≥ ${fmt(c.threshold)}`;
  return `<section id="col-${esc(c.name)}"><h3>${esc(c.name)} ${verdict}</h3>
<p>${esc(c.type)} · test <code>${esc(c.test)}</code> · statistic ${fmt(c.statistic)} · ${rule}</p>
${c.histogram ? histogramSvg(c.name, c.histogram) : ""}</section>`;
}

/** Render a drift report (computed with `histograms: true` for the charts) as a standalone page. */
export function renderDriftHtml(report: DriftReport, options: DriftHtmlOptions = {}): string {
  const title = options.title ?? "Data drift report";
  const refL = options.referenceLabel ?? "reference";
  const curL = options.currentLabel ?? "current";
  const when = new Date(options.generatedAt ?? Date.now()).toISOString();
  const drifted = report.columns.filter((c) => c.drift).length;
  const rows = report.columns
    .map(
      (c) =>
        `<tr class="${c.drift ? "drift" : ""}"><td><a href="#col-${esc(c.name)}">${esc(c.name)}</a></td><td>${esc(c.type)}</td><td><code>${esc(c.test)}</code></td><td>${fmt(c.statistic)}</td><td>${fmt(c.pValue)}</td><td>${fmt(c.threshold)}</td><td>${c.drift ? "drift" : "no drift"}</td></tr>`,
    )
    .join("\n");
  const skipped = report.skipped.length
    ? `<p class="muted">Not tested: ${report.skipped.map((s) => `${esc(s.name)} (${esc(s.reason)})`).join("; ")}</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.5rem}h3{margin:.2rem 0}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d8dee4}tr.drift td{background:#fff1f0}
.bad{color:#b42318;font-weight:600}.ok{color:#067647;font-weight:600}.muted{color:#57606a}
section{border:1px solid #d8dee4;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
svg text{font-size:10px;fill:#57606a}.axis{stroke:#8c959f}.ref{fill:#6e7781}.cur{fill:#0969da}
.chart{max-width:100%;height:auto}.scroll{overflow-x:auto}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="muted">${esc(refL)} (${report.referenceRows} rows) vs ${esc(curL)} (${report.currentRows} rows) · generated ${esc(when)}</p>
<p><strong class="${report.datasetDrift ? "bad" : "ok"}">${report.datasetDrift ? "Dataset drift detected" : "No dataset drift"}</strong>:
${drifted} of ${report.columns.length} columns drifted (share ${fmt(report.shareDrifted)}; the dataset drifts at ≥ ${fmt(report.driftShare)}).</p>
<p class="legend"><span class="ref" style="background:#6e7781"></span>${esc(refL)}<span style="background:#0969da"></span>${esc(curL)}</p>
<div class="scroll"><table><thead><tr><th>column</th><th>type</th><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th><th>verdict</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
${skipped}
${report.columns.map(columnSection).join("\n")}
<p class="muted">Tests and thresholds follow Evidently's defaults: KS, chi-square or Z-test (p &lt; 0.05) for references of at most 1000 rows; normalised Wasserstein or Jensen-Shannon distance (≥ 0.1) beyond.</p>
</body></html>
`;
}
