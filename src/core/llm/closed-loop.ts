/**
 * The prompt closed loop, its two LLM-side halves:
 * - `PromptRollbackPolicy`: when an alert fires, every policy whose `rollback.on_alert` names it
 *   moves the prompt aliases it governs (`applies_to.prompts`) back to the version each held before
 *   — without re-checking, as a model alias rollback (that version passed when it got the alias).
 * - `LoggedCallScorer`: a monitor's `sampled_eval` runs tandem/eval's scorers on logged calls, the
 *   answer being the one the endpoint gave (nothing is called again).
 */
import { tmpdir } from "node:os";
import { InvalidInputError } from "../errors.js";
import type { CallScorer, SampleScores, SampledCall } from "../monitoring/monitors/llm-checks.js";
import { governingPolicies } from "../registry/policy-scope.js";
import { runEvaluation, uniqueNames } from "./evaluate.js";
import type { PromptPolicySource, PromptStore } from "./ports.js";
import { promptScope, type PromptService } from "./prompts.js";
import { buildScorer, scorerSpecSchema, type EvalCase } from "./scorers.js";
import type { UpstreamFetch } from "./upstream.js";

export interface PromptRollback {
  policy: string;
  prompt: string;
  alias: string;
  fromVersion: number;
  toVersion: number;
}

export class PromptRollbackPolicy {
  constructor(
    private readonly prompts: PromptService,
    private readonly store: PromptStore,
    private readonly policies: PromptPolicySource,
  ) {}

  /** Rolls back what the policies naming `alert` govern; returns the moves made. */
  async alertFired(alert: { project: string; name: string; id: string }): Promise<PromptRollback[]> {
    const all = await this.policies.policies(alert.project);
    const rolling = Object.entries(all).filter(([, p]) => p.rollback?.on_alert === alert.name);
    if (rolling.length === 0) return [];
    const moves: PromptRollback[] = [];
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
        await this.prompts.rollbackAlias(
          `policy:${policy}`,
          alert.project,
          prompt.name,
          alias.alias,
          previous,
          `alert ${alert.name} (${alert.id}) fired; policy ${policy} rolls ${alias.alias} back`,
          // The admin's rule in the policy, not a caller's choice.
          { automatic: true },
        );
        moves.push({
          policy,
          prompt: prompt.name,
          alias: alias.alias,
          fromVersion: alias.version,
          toVersion: previous,
        });
      }
    }
    return moves;
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
        return buildScorer(
          parsed.data,
          { fetcher: this.o.fetcher, secret: (n) => this.o.secret(project, n), cwd: tmpdir() },
          at,
        );
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
