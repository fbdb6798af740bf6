/** Wire shapes of src/server/routes/endpoints.ts. */
export interface EndpointWire {
  project: string;
  name: string;
  model: string;
  primary: string;
  canary: { model: string; percent: number } | null;
  shadow: string | null;
  policy: string | null;
  slo: {
    max_error_rate_increase: number;
    max_p95_ratio: number;
    significance: number;
    latency_floor_ms: number;
    latency_margin_ms: number;
    window_seconds: number;
    min_requests: number;
    auto_promote_after_seconds: number;
  };
  primary_version: number | null;
  canary_version: number | null;
  shadow_version: number | null;
  rollout: { version: number; previous_version: number | null; deployment_id: string; started_at: number } | null;
  blocked_canary_version: number | null;
  status: string;
  revision: number;
  created_at: number;
  updated_at: number;
  created_by: string;
}

export interface ServingEventWire {
  id: string;
  endpoint: string;
  at: number;
  kind: string;
  severity: string;
  message: string;
  deployment_id: string | null;
  details: Record<string, unknown>;
}

export interface DeploymentWire {
  id: string;
  project: string;
  kind: string;
  target: string;
  model: string | null;
  version: number | null;
  previous_version: number | null;
  commit: string | null;
  environment: string | null;
  reason: string;
  actor: string;
  outcome: string;
  started_at: number;
  finished_at: number | null;
  details: Record<string, unknown>;
}

/** One SLO as the canary judge weighs it now (values: error rate 0–1, or p95 latency in ms). */
export interface SloJudgementWire {
  slo: "error_rate" | "latency";
  canary_value: number | null;
  primary_value: number | null;
  canary_requests: number;
  primary_requests: number;
  p_value: number;
  passed: boolean;
  summary: string;
}

export interface CanaryJudgementWire {
  verdict: "breach" | "healthy" | "insufficient_data";
  reason: string;
  canary_requests: number;
  primary_requests: number;
  slos: SloJudgementWire[];
}

export type EndpointDetail = EndpointWire & {
  events: ServingEventWire[];
  deployments: DeploymentWire[];
  canary_judgement: CanaryJudgementWire | null;
};

/** Share of live traffic per slot; the shadow gets copies, not a share. */
export function trafficSplit(e: EndpointWire): Array<{ slot: string; version: number | null; percent: number }> {
  const canary = e.canary && e.canary_version !== null ? e.canary.percent : 0;
  const split = [{ slot: "primary", version: e.primary_version, percent: 100 - canary }];
  if (canary > 0) split.push({ slot: "canary", version: e.canary_version, percent: canary });
  return split;
}
