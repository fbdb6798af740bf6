/**
 * The prompt closed loop, its two LLM-side halves:
 * - `PromptRollbackPolicy`: when an alert fires, every policy whose `rollback.on_alert` names it
 *   moves the prompt aliases it governs (`applies_to.prompts`) back to the version each held before
 *   — without re-checking, as a model alias rollback (that version passed when it got the alias).
 * - `LoggedCallScorer`: a monitor's `sampled_eval` runs tandem/eval's scorers on logged calls, the
 *   answer being the one the endpoint gave (nothing is called again).
 */
import { InvalidInputError } from "../errors.js";
import type { CallScorer, SampleScores, SampledCall } from "../monitoring/monitors/llm-checks.js";
import { governingPolicies } from "../registry/policy-scope.js";
import { runEvaluation, uniqueNames } from "./evaluate.js";
import type { PromptPolicySource, PromptStore } from "./ports.js";
import { promptScope } from "./prompt-scope.js";
import type { PromptService } from "./prompts.js";
import { buildScorer, scorerSpecSchema, type EvalCase } from "./scorers.js";
import type { UpstreamFetch } from "./upstream.js";

export interface PromptRollback {
  policy: string;
  prompt: string;
  alias: string;
  fromVersion: number;
  toVersion: number;
}

export interface RefusedRollback {
  policy: string;
  prompt: string;
  alias: string;
  toVersion: number;
  reason: string;
}

export class PromptRollbackPolicy {
  constructor(
    private readonly prompts: PromptService,
    private readonly store: PromptStore,
    private readonly policies: PromptPolicySource,
  ) {}

  /** Rolls back what the policies naming `alert` govern; returns the moves made and those refused. */
  async alertFired(alert: {
    project: string;
    name: string;
    id: string;
  }): Promise<{ moves: PromptRollback[]; refused: RefusedRollback[] }> {
    const all = await this.policies.policies(alert.project);
    const rolling = Object.entries(all).filter(([, p]) => p.rollback?.on_alert === alert.name);
    const moves: PromptRollback[] = [];
    const refused: RefusedRollback[] = [];
    if (rolling.length === 0) return { moves, refused };
    for (const prompt of await this.store.listPrompts(alert.project)) {
      for (const alias of prompt.aliases) {
        const scope = promptScope(prompt.name, { kind: "alias", name: alias.alias });
        const governed = governingPolicies(Object.fromEntries(rolling), scope).map((g) => g.name);
        if (governed.length === 0) continue;
        // Once per alert: a retried trigger (after a crash) must not roll back a second step.
        const last = (await this.store.aliasHistory(alert.project, prompt.name, alias.alias)).at(-1);
        if (last?.action === "rollback" && last.reason.includes(`(${alert.id})`)) continue;
        const previous = await this.prompts.previousAliasVersion(alert.project, prompt.name, alias.alias);
        if (previous === null) continue;
        const policy = governed[0]!;
        // Not an override: the rollback rule still holds (the earlier version reached the alias
        // through a passing decision and no approver rejected it since). A refusal is reported, and
        // never stops the other aliases or the alert's triggers.
        try {
          await this.prompts.rollbackAlias(
            `policy:${policy}`,
            alert.project,
            prompt.name,
            alias.alias,
            previous,
            `alert ${alert.name} (${alert.id}) fired; policy ${policy} rolls ${alias.alias} back`,
          );
        } catch (error) {
          refused.push({
            policy,
            prompt: prompt.name,
            alias: alias.alias,
            toVersion: previous,
            reason: error instanceof Error ? error.message : String(error),
          });
          continue;
        }
        moves.push({
          policy,
          prompt: prompt.name,
          alias: alias.alias,
          fromVersion: alias.version,
          toVersion: previous,
        });
      }
    }
    return { moves, refused };
  }
}

export interface LoggedCallScorerOptions {
  /** The outbound guard's fetch, for llm_judge URLs. */
  fetcher: UpstreamFetch;
  secret(project: string, name: string): Promise<string>;
}

export class LoggedCallScorer implements CallScorer {
  constructor(private readonly o: LoggedCallScorerOptions) {}

  async score(project: string, specs: unknown[], calls: SampledCall[], where: string): Promise<SampleScores> {
    const scorers = uniqueNames(
      specs.map((raw, i) => {
        const at = `${where}.scorers[${i}]`;
        const parsed = scorerSpecSchema.safeParse(raw);
        if (!parsed.success) throw new InvalidInputError(`${at}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
        // A monitor runs in the server, outside any step sandbox: it never runs a command.
        if (typeof parsed.data === "object" && "command" in parsed.data)
          throw new InvalidInputError(`${at}: command scorers run only in tandem/eval steps, not in monitors`);
        return buildScorer(parsed.data, { fetcher: this.o.fetcher, secret: (n) => this.o.secret(project, n) }, at);
      }),
    );
    const cases: EvalCase[] = calls.map((c, i) => ({
      line: i + 1,
      variables: c.variables,
      expected: null,
      rubric: null,
    }));
    const { metrics } = await runEvaluation(
      cases,
      (c) => Promise.resolve({ answer: calls[c.line - 1]!.answer, inputTokens: null, outputTokens: null }),
      scorers,
    );
    const out: SampleScores = {};
    for (const s of scorers) {
      const errors = metrics[`${s.name}.errors`] ?? 0;
      out[s.name] = { mean: metrics[`${s.name}.mean`] ?? null, scored: calls.length - errors, errors };
    }
    return out;
  }
}
