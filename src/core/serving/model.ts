/**
 * Serving's domain model.
 *
 * Glossary (DESIGN.md "Endpoint", "Deployment record")
 * - Endpoint: a named, served model in a project. It follows a model *selector*: an alias
 *   (`flights-delay@champion`, so moving the alias rolls out) or a pinned version (`flights-delay@3`).
 * - Slot: where a version sits in an endpoint's traffic: `primary` (the answer), `canary` (a sticky
 *   percentage of the answers) or `shadow` (a mirrored copy whose answer is logged, never returned).
 * - Rollout: the primary selector resolved to a new version while a canary is configured; the new
 *   version takes the canary slot first and becomes primary once it has held its SLO for the window
 *   (or on `promote`). A rollout that breaks its SLO is rolled back.
 * - SLO: the canary's limits against the primary over a sliding window, per SLO (error rate, latency):
 *   a minimum sample per arm, a significance test, and how much worse the canary may be.
 * - Deployment record: one rollout of a model version to an endpoint, or of a software service
 *   (`tandem deployments record`), with commit, time and outcome — the basis of DORA metrics.
 * - Serving event: what happened to an endpoint (rollout, promotion, rollback, SLO breach). Events of
 *   severity `critical` are the alerts Monitoring picks up (see `ServingAlertSink`).
 * - Prediction: one instance answered by one version; its id is returned to the client so ground truth
 *   can come back as feedback.
 */

import type { LlmEndpointConfig } from "../llm/model.js";
import type { OutputColumns } from "./output-rows.mjs";

export type Slot = "primary" | "canary" | "shadow";

/** What an endpoint slot follows: an alias (moves) or a pinned version number. */
export type ModelSelector = { kind: "alias"; alias: string } | { kind: "version"; version: number };

export interface SloSpec {
  /**
   * Largest allowed (canary error rate − primary error rate) over the window, once the difference is
   * significant (default 0.05).
   */
  maxErrorRateIncrease: number;
  /**
   * Largest allowed canary p95 / primary p95 latency, once the difference is significant and past
   * the floor and margin (default 2.0).
   */
  maxP95Ratio: number;
  /** One-sided significance level of both tests: Mann-Whitney U (latency), two-proportion Z (errors) (default 0.05). */
  significance: number;
  /** A canary whose p95 latency is under this never fails on latency, ms (default 50). */
  latencyFloorMs: number;
  /** A canary whose p95 is within this of the primary's never fails on latency, ms (default 5). */
  latencyMarginMs: number;
  /**
   * Sliding window the rates are computed over, ms (default 600 000). Ten minutes, as a Flagger
   * analysis of ten one-minute runs: with 100 requests needed per arm, a one-minute window never
   * judged a 10% canary under ~17 requests a second.
   */
  windowMs: number;
  /** Fewest requests per arm (canary and primary) before a verdict (default 100): fewer keeps watching. */
  minRequests: number;
  /** A healthy rollout becomes primary after this long, ms; 0 = only on `promote` (default 0). */
  autoPromoteAfterMs: number;
}

export const DEFAULT_SLO: SloSpec = {
  maxErrorRateIncrease: 0.05,
  maxP95Ratio: 2,
  significance: 0.05,
  latencyFloorMs: 50,
  latencyMarginMs: 5,
  windowMs: 600_000,
  minRequests: 100,
  autoPromoteAfterMs: 0,
};

export interface CanarySpec {
  selector: ModelSelector;
  /** 0–100. */
  percent: number;
}

export interface RolloutState {
  /** The version being rolled out in the canary slot. */
  version: number;
  /** The primary it replaces (where traffic and the alias return on failure). */
  previousVersion: number | null;
  deploymentId: string;
  startedAt: number;
}

export type EndpointStatus = "serving" | "rolling_out" | "degraded";

export interface Endpoint {
  project: string;
  name: string;
  model: string;
  primary: ModelSelector;
  canary: CanarySpec | null;
  shadow: ModelSelector | null;
  /** Share of requests mirrored to the shadow, 0–100 (default 100). */
  shadowPercent: number;
  slo: SloSpec;
  /** Policy checked before a version gets this endpoint (default: the registry's choice). */
  policy: string | null;
  /** Resolved versions currently served. */
  primaryVersion: number | null;
  canaryVersion: number | null;
  shadowVersion: number | null;
  rollout: RolloutState | null;
  /** The deployment record and start of the version in the canary slot (when one is there). */
  canaryState: { deploymentId: string; since: number } | null;
  /** A canary version that failed its SLO: not given traffic again until its selector moves. */
  blockedCanaryVersion: number | null;
  status: EndpointStatus;
  /** Optimistic-concurrency counter: every change is `where revision = expected`. */
  revision: number;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
  /**
   * An LLM endpoint's upstream (null for a model endpoint). Its `model` is then `prompt:NAME` and
   * its versions are that prompt's versions: the same slots, canary, SLO and rollback.
   */
  llm?: LlmEndpointConfig | null;
}

export type DeploymentOutcome = "in_progress" | "succeeded" | "failed" | "rolled_back";
export type DeploymentKind = "model" | "service";

export interface DeploymentRecord {
  id: string;
  project: string;
  kind: DeploymentKind;
  /** The endpoint, or the software service's name. */
  target: string;
  model: string | null;
  version: number | null;
  /** The version the target served before (null for a first deployment). */
  previousVersion: number | null;
  /** Git commit of what was deployed (the source run's commit for a model, when known). */
  commit: string | null;
  /** When that commit was made, ms, where sent (a service's CI); null when unknown. */
  commitAt: number | null;
  environment: string | null;
  /**
   * Why: "deploy", "alias moved", "rollback", "rollout through canary", "canary N%"; a service's
   * CI says "deploy", "rollback" or "hotfix" (DORA reads rollbacks and hotfixes as interventions).
   */
  reason: string;
  actor: string;
  outcome: DeploymentOutcome;
  startedAt: number;
  finishedAt: number | null;
  details: Record<string, unknown>;
}

export type ServingEventKind =
  | "deployed"
  | "rollout_started"
  | "promoted"
  | "rolled_back"
  | "slo_breach"
  | "model_error"
  /** The prediction log fell behind its bound and dropped answers (the database is too slow). */
  | "log_dropped";
export type Severity = "info" | "warning" | "critical";

export interface ServingEvent {
  id: string;
  project: string;
  endpoint: string;
  at: number;
  kind: ServingEventKind;
  severity: Severity;
  message: string;
  deploymentId: string | null;
  details: Record<string, unknown>;
}

/** One logged answer (or failure) for one instance. */
export interface PredictionLogEntry {
  id: string;
  project: string;
  endpoint: string;
  model: string;
  version: number;
  slot: Slot;
  requestId: string;
  at: number;
  latencyMs: number;
  /** Keyed by feature name. */
  features: Record<string, unknown>;
  /** The prediction as returned (`{label, probabilities}` or `{value}`), null on error. */
  output: unknown;
  error: string | null;
}

/**
 * A batch's feature values in columns, as an ONNX runner reads them: the log makes each row's JSON
 * off the request path (a 64-row request no longer builds 64 objects to be stringified).
 */
export interface FeatureColumns {
  names: readonly string[];
  /** rows × names.length, row-major; NaN where the value is not a plain number (it is in `others`). */
  values: Float64Array;
  /** `[index, value, index, value, …]` for the NaN-marked values (null, booleans, strings), or null. */
  others: unknown[] | null;
}

/** Each instance's features for the log: in columns, or one object per instance keyed by feature name. */
export type LoggedFeatures = FeatureColumns | Array<Record<string, unknown>>;

/** One request's answers (or its failure) as the log takes them: shared fields once, one id per row. */
export interface LoggedRequest {
  project: string;
  endpoint: string;
  model: string;
  version: number;
  slot: Slot;
  requestId: string;
  at: number;
  latencyMs: number;
  /** One prediction id per row. */
  ids: string[];
  /**
   * When the ids follow each other (`head` + `first + i` in 8 hex digits: fastIdRun), the run: the
   * log sends it to its writer instead of every id (default: none, the ids are sent).
   */
  idRun?: { head: string; first: number } | null;
  features: LoggedFeatures;
  /**
   * One output per row, as answered, or their JSON array text where the answer made it already, or
   * the numbers they were made from (output-rows.mjs: the log's writer thread makes the same text);
   * null when the request failed.
   */
  outputs: unknown[] | string | OutputColumns | null;
  error: string | null;
}

export interface FeedbackEntry {
  predictionId: string;
  project: string;
  endpoint: string;
  label: unknown;
  at: number;
}

export function formatSelector(model: string, s: ModelSelector): string {
  return s.kind === "alias" ? `${model}@${s.alias}` : `${model}@${s.version}`;
}

/** "champion" → alias, "3" → version. */
export function parseSelector(text: string): ModelSelector {
  return /^\d+$/.test(text) ? { kind: "version", version: Number(text) } : { kind: "alias", alias: text };
}

/** "name@alias" / "name@3" → parts; null when there is no "@". */
export function parseModelRef(text: string): { model: string; selector: ModelSelector } | null {
  const at = text.lastIndexOf("@");
  if (at <= 0 || at === text.length - 1) return null;
  return { model: text.slice(0, at), selector: parseSelector(text.slice(at + 1)) };
}
