/**
 * How the canary stands: each SLO with both arms' values, their sample sizes and the test's p-value,
 * as the serving controller will judge it on its next tick (GET …/endpoints/{e} canary_judgement).
 */
import type { CanaryJudgementWire, EndpointWire, SloJudgementWire } from "../api/serving";
import { DataTable } from "../components/table";
import { formatPercent } from "../lib/format";

const VERDICT: Record<CanaryJudgementWire["verdict"], string> = {
  healthy: "holding its SLOs",
  breach: "breaking an SLO",
  insufficient_data: "keep watching",
};

function value(j: SloJudgementWire, v: number | null): string {
  if (v === null) return "—";
  return j.slo === "error_rate" ? formatPercent(v) : `${v.toFixed(1)} ms`;
}

/** p-values as the CLI prints them: small ones in scientific notation. */
export const formatP = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));

export function CanaryJudgement({ judgement, slo }: { judgement: CanaryJudgementWire; slo: EndpointWire["slo"] }) {
  return (
    <div data-testid="canary-judgement">
      <p>
        Canary:{" "}
        <strong className={judgement.verdict === "breach" ? "error" : undefined}>{VERDICT[judgement.verdict]}</strong> —{" "}
        {judgement.canary_requests} canary and {judgement.primary_requests} primary requests in the window
        {judgement.verdict === "insufficient_data" ? `, ${slo.min_requests} each needed for a verdict.` : "."}
      </p>
      {judgement.slos.length > 0 && (
        <DataTable
          caption={`Canary against primary, one-sided tests at significance ${slo.significance}`}
          testId="canary-slos"
          rows={judgement.slos}
          rowKey={(j) => j.slo}
          columns={[
            { key: "slo", header: "SLO", cell: (j) => (j.slo === "latency" ? "p95 latency" : "error rate") },
            { key: "canary", header: "Canary", cell: (j) => value(j, j.canary_value) },
            { key: "primary", header: "Primary", cell: (j) => value(j, j.primary_value) },
            { key: "n", header: "Requests", cell: (j) => `${j.canary_requests} / ${j.primary_requests}` },
            { key: "p", header: "p-value", cell: (j) => formatP(j.p_value) },
            {
              key: "verdict",
              header: "Verdict",
              cell: (j) => <span className={j.passed ? "ok" : "error"}>{j.summary.split(": ").pop()}</span>,
            },
          ]}
        />
      )}
    </div>
  );
}
