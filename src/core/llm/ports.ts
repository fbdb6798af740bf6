/**
 * What the LLM area needs from the outside, named after the idea. The SQL store satisfies the
 * stores; the wiring supplies the project's policies and secrets.
 */
import type { Tx } from "../ports.js";
import type { PolicySpec } from "../registry/policy.js";
import type {
  LlmSettings,
  Prompt,
  PromptAlias,
  PromptAliasEvent,
  PromptApproval,
  PromptEvaluation,
  PromptVersion,
  Span,
  TraceFilter,
  TraceSummary,
} from "./model.js";

export interface PromptStore {
  getPrompt(project: string, name: string, tx?: Tx): Promise<Prompt | null>;
  /** Inserts unless it exists; true when this call made it. */
  insertPrompt(p: Prompt, tx: Tx): Promise<boolean>;
  touchPrompt(project: string, name: string, at: number, tx: Tx): Promise<void>;
  listPrompts(project: string): Promise<Array<Prompt & { latestVersion: number | null; aliases: PromptAlias[] }>>;
  /** Serialises version numbering and alias moves of one prompt for the rest of `tx`. */
  lockPrompt(project: string, name: string, tx: Tx): Promise<void>;

  getVersion(project: string, name: string, version: number, tx?: Tx): Promise<PromptVersion | null>;
  latestVersion(project: string, name: string, tx?: Tx): Promise<PromptVersion | null>;
  findVersionBySha(project: string, name: string, sha256: string, tx?: Tx): Promise<PromptVersion | null>;
  insertVersion(v: PromptVersion, tx: Tx): Promise<void>;
  listVersions(project: string, name: string): Promise<PromptVersion[]>;

  getAlias(project: string, name: string, alias: string, tx?: Tx): Promise<PromptAlias | null>;
  listAliases(project: string, name: string, tx?: Tx): Promise<PromptAlias[]>;
  putAlias(a: PromptAlias, tx: Tx): Promise<void>;
  deleteAlias(project: string, name: string, alias: string, tx: Tx): Promise<void>;
  appendAliasEvent(e: Omit<PromptAliasEvent, "seq">, tx: Tx): Promise<void>;
  /** Oldest first. */
  aliasHistory(project: string, name: string, alias: string | null, tx?: Tx): Promise<PromptAliasEvent[]>;

  insertEvaluation(e: PromptEvaluation, tx: Tx): Promise<void>;
  /** Newest first. */
  listEvaluations(project: string, name: string, version: number | null, tx?: Tx): Promise<PromptEvaluation[]>;

  insertApproval(a: PromptApproval, tx: Tx): Promise<void>;
  listApprovals(project: string, name: string, version: number, tx?: Tx): Promise<PromptApproval[]>;

  getSettings(project: string): Promise<LlmSettings | null>;
  putSettings(s: LlmSettings, tx: Tx): Promise<void>;
  /** Every project's settings (for the retention sweeper). */
  allSettings(): Promise<LlmSettings[]>;
}

export interface TraceStore {
  /** Inserts spans; a span already stored (same project, trace and span id) is replaced. */
  insertSpans(spans: Span[]): Promise<void>;
  listTraces(project: string, filter: TraceFilter): Promise<TraceSummary[]>;
  /** How many traces the filter selects (its limit aside). */
  countTraces(project: string, filter: TraceFilter): Promise<number>;
  /** Spans of one trace, by start time. */
  traceSpans(project: string, traceId: string): Promise<Span[]>;
  /** Root spans (one row per trace) started in [since, until), for monitors. */
  rootSpans(project: string, since: number, until: number, limit: number): Promise<Span[]>;
  /** Deletes a project's spans that started before `before` (all projects when null); returns how many. */
  deleteBefore(project: string | null, before: number, exceptProjects?: string[]): Promise<number>;
}

/** The project's policies as last applied. */
export interface PromptPolicySource {
  policies(project: string): Promise<Record<string, PolicySpec>>;
}
