/**
 * LLMs and agents' domain model.
 *
 * Glossary (DESIGN.md "Prompt", "Evaluation", "Trace")
 * - Prompt: a named, versioned chat template in a project. Prompts are to LLM endpoints what models
 *   are to model endpoints.
 * - Prompt version: `name@N`, immutable: chat messages whose `{{ variable }}` placeholders carry no
 *   logic, plus model parameters (model, temperature, max_tokens). Creating the same content again
 *   returns the existing version.
 * - Alias: a movable name (`production`, `staging`) on one version; every move goes through the
 *   project's policies that govern prompts and is kept in the alias history.
 * - Prompt evaluation: the metrics an evaluation run (`uses: tandem/eval`) gave one version on one
 *   case set — what policies gate on, and the lineage from a version to the runs that judged it.
 * - LLM endpoint: an endpoint whose "model" is a prompt (`prompt:NAME` in serving's tables) and
 *   whose calls go to an OpenAI-compatible upstream. Canary, shadow, feedback and rollback are the
 *   model endpoints' own machinery.
 * - Span / trace: OpenTelemetry spans (OTLP) kept per project; a trace is the spans sharing a
 *   32-hex trace id, its root the span without a parent in it.
 */
import type { EvidenceSource } from "../registry/model.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool" | "developer";
  content: string;
}

export interface ModelParams {
  /** The upstream model; the endpoint's `model` when the version names none. */
  model?: string;
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
}

export interface Prompt {
  project: string;
  name: string;
  description: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface PromptVersion {
  project: string;
  name: string;
  version: number;
  messages: ChatMessage[];
  params: ModelParams;
  /** The placeholders the messages use, sorted. */
  variables: string[];
  /** sha256 of the canonical content (messages + params): the same content is the same version. */
  sha256: string;
  description: string;
  author: string;
  createdAt: number;
}

export interface PromptAlias {
  project: string;
  name: string;
  alias: string;
  version: number;
  updatedBy: string;
  updatedAt: number;
}

export type PromptAliasAction = "set" | "move" | "delete" | "rollback";

export interface PromptAliasEvent {
  seq: number;
  project: string;
  name: string;
  alias: string;
  action: PromptAliasAction;
  fromVersion: number | null;
  toVersion: number | null;
  actor: string;
  reason: string;
  /** The policy decision that allowed it (checks and verdict; a rollback's rule), null for delete. */
  decision: unknown;
  at: number;
}

export interface PromptEvaluation {
  id: string;
  project: string;
  name: string;
  version: number;
  /** The tracking run of the evaluation (its per-case table is an artifact of it). */
  runId: string | null;
  /** The case set, e.g. `support-cases@3`. */
  dataset: string;
  metrics: Record<string, number>;
  createdBy: string;
  createdAt: number;
  /**
   * `pipeline`: a `tandem/eval` step made it (its run, step and step run are kept); `manual`: the API
   * or CLI, which any member can call with any metrics, so policies read it only with `accept_manual`.
   */
  source: EvidenceSource;
  pipelineRunId: string | null;
  step: string | null;
  stepRunId: string | null;
}

export interface PromptApproval {
  id: string;
  project: string;
  name: string;
  version: number;
  userName: string;
  role: string;
  decision: "approve" | "reject";
  comment: string;
  at: number;
}

/** `endpoints.E.llm` of tandem.yaml, as stored on the endpoint. */
export interface LlmEndpointConfig {
  /** OpenAI-compatible base URL, e.g. https://api.openai.com/v1 (the path `/chat/completions` is added). */
  upstream: string;
  /** The upstream model when the prompt version names none. */
  model: string;
  /** A project secret holding the upstream's API key (sent as `Authorization: Bearer`). */
  apiKeySecret: string | null;
  /** Log rendered messages and answers (false: only their sha256) (default true). */
  logContent: boolean;
  /** Upstream timeout, ms (default 60 000). */
  timeoutMs: number;
}

/** Price of a model, per million tokens, in the project's currency unit. */
export interface ModelPrice {
  input: number;
  output: number;
}

export interface LlmSettings {
  project: string;
  prices: Record<string, ModelPrice>;
  /** Spans older than this many days are deleted by the sweeper (null: the server default). */
  traceRetentionDays: number | null;
  updatedAt: number;
}

export type SpanStatus = "unset" | "ok" | "error";

export interface Span {
  project: string;
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** internal, server, client, producer, consumer, unspecified. */
  kind: string;
  /** The resource's `service.name`. */
  service: string | null;
  /** Unix nanoseconds, as decimal strings (they pass 2^53). */
  startNs: string;
  endNs: string;
  startMs: number;
  durationMs: number;
  status: SpanStatus;
  statusMessage: string | null;
  /** From the GenAI conventions: `gen_ai.request.model` (else `gen_ai.response.model`). */
  model: string | null;
  operation: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cost: number | null;
  /** `tandem.prediction_id`: the logged call of an LLM endpoint that made this span. */
  predictionId: string | null;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: Array<{ name: string; timeNs: string; attributes: Record<string, unknown> }>;
  ingestedAt: number;
}

export interface TraceSummary {
  traceId: string;
  rootSpanName: string;
  startTime: number;
  durationMs: number;
  status: "ok" | "error";
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  cost: number | null;
  spanCount: number;
  predictionId: string | null;
  /** The root span's raw `gen_ai.*` attributes. */
  attributes: Record<string, unknown>;
}

export interface TraceFilter {
  model?: string;
  status?: "ok" | "error";
  /** ms since the epoch, inclusive. */
  since?: number;
  until?: number;
  /** (default 50, at most 500) */
  limit?: number;
}
