/**
 * `tandem prompts compare A B --cases …`: both versions answer the same cases through the same
 * upstream, every scorer scores both, and the result pairs them case by case — which cases changed
 * answer, which got better or worse by each scorer — beside each version's metrics.
 */
import { runEvaluation, uniqueNames, type CaseRow } from "./evaluate.js";
import type { PromptVersion } from "./model.js";
import type { EvalCase, Scorer } from "./scorers.js";
import { renderMessages } from "./template.js";
import { complete, type UpstreamFetch } from "./upstream.js";

export interface CompareOptions {
  a: PromptVersion;
  b: PromptVersion;
  cases: EvalCase[];
  scorers: Scorer[];
  upstream: string;
  apiKey: string | null;
  /** Used when a version's params name no model. */
  model: string | null;
  timeoutMs: number;
  fetcher?: UpstreamFetch;
  /** (default 4) */
  concurrency?: number;
}

export interface ComparedCase {
  line: number;
  variables: Record<string, unknown>;
  expected: unknown;
  a: Pick<CaseRow, "answer" | "error" | "scores" | "score_errors">;
  b: Pick<CaseRow, "answer" | "error" | "scores" | "score_errors">;
  /** The answers differ (or one failed). */
  changed: boolean;
  /** Per scorer: b's score minus a's (null when either did not score). */
  delta: Record<string, number | null>;
}

export interface PromptComparison {
  a: string;
  b: string;
  metrics: { a: Record<string, number>; b: Record<string, number> };
  cases: ComparedCase[];
  /** Cases whose answer changed, and by scorer how many got better and worse. */
  summary: { changed: number; better: Record<string, number>; worse: Record<string, number> };
}

const pick = (r: CaseRow) => ({ answer: r.answer, error: r.error, scores: r.scores, score_errors: r.score_errors });

export async function comparePromptVersions(o: CompareOptions): Promise<PromptComparison> {
  const scorers = uniqueNames(o.scorers);
  const run = (v: PromptVersion) => {
    const ref = `${v.name}@${v.version}`;
    return runEvaluation(
      o.cases,
      async (c) => {
        const r = await complete({
          baseUrl: o.upstream,
          apiKey: o.apiKey,
          model: v.params.model ?? o.model ?? "default",
          messages: renderMessages(v.messages, c.variables, ref),
          params: v.params,
          timeoutMs: o.timeoutMs,
          fetcher: o.fetcher,
        });
        return { answer: r.answer, inputTokens: r.inputTokens, outputTokens: r.outputTokens };
      },
      scorers,
      { concurrency: o.concurrency },
    );
  };
  const [a, b] = await Promise.all([run(o.a), run(o.b)]);
  const better: Record<string, number> = {};
  const worse: Record<string, number> = {};
  for (const s of scorers) better[s.name] = worse[s.name] = 0;
  const cases = o.cases.map((c, i): ComparedCase => {
    const ra = a.rows[i]!;
    const rb = b.rows[i]!;
    const delta: Record<string, number | null> = {};
    for (const s of scorers) {
      const x = ra.scores[s.name];
      const y = rb.scores[s.name];
      const d = typeof x === "number" && typeof y === "number" ? y - x : null;
      delta[s.name] = d;
      if (d !== null && d > 0) better[s.name]!++;
      if (d !== null && d < 0) worse[s.name]!++;
    }
    return {
      line: c.line,
      variables: c.variables,
      expected: c.expected,
      a: pick(ra),
      b: pick(rb),
      changed: ra.answer !== rb.answer || ra.error !== rb.error,
      delta,
    };
  });
  return {
    a: `${o.a.name}@${o.a.version}`,
    b: `${o.b.name}@${o.b.version}`,
    metrics: { a: a.metrics, b: b.metrics },
    cases,
    summary: { changed: cases.filter((c) => c.changed).length, better, worse },
  };
}
