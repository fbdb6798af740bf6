/**
 * Runs an evaluation: every case through a prompt version (rendered and sent to an upstream) or an
 * endpoint (its gateway, as a caller would), every scorer on every answer, then the metrics:
 * `cases`, `answer_errors`, and per scorer `<scorer>.mean` (over the cases it scored) and
 * `<scorer>.errors`. The per-case table keeps each case's variables, expected, answer, scores and
 * errors. Cases run `concurrency` at a time (default 4), in order of the file.
 */
import type { Scorer, EvalCase } from "./scorers.js";

export interface CaseRow {
  line: number;
  variables: Record<string, unknown>;
  expected: unknown;
  answer: string | null;
  error: string | null;
  latency_ms: number;
  input_tokens: number | null;
  output_tokens: number | null;
  scores: Record<string, number | null>;
  score_errors: Record<string, string>;
}

export interface EvalOutcome {
  metrics: Record<string, number>;
  rows: CaseRow[];
}

export type Answerer = (
  c: EvalCase,
) => Promise<{ answer: string; inputTokens: number | null; outputTokens: number | null }>;

export async function runEvaluation(
  cases: EvalCase[],
  answer: Answerer,
  scorers: Scorer[],
  options: { concurrency?: number; onCase?: (done: number, total: number) => void } = {},
): Promise<EvalOutcome> {
  const rows: CaseRow[] = new Array<CaseRow>(cases.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      const started = performance.now();
      const row: CaseRow = {
        line: c.line,
        variables: c.variables,
        expected: c.expected,
        answer: null,
        error: null,
        latency_ms: 0,
        input_tokens: null,
        output_tokens: null,
        scores: {},
        score_errors: {},
      };
      try {
        const a = await answer(c);
        row.answer = a.answer;
        row.input_tokens = a.inputTokens;
        row.output_tokens = a.outputTokens;
      } catch (error) {
        row.error = error instanceof Error ? error.message : String(error);
      }
      row.latency_ms = performance.now() - started;
      for (const s of scorers) {
        if (row.answer === null) {
          row.scores[s.name] = null;
          continue;
        }
        const r = await s.score(c, row.answer);
        if ("score" in r) row.scores[s.name] = r.score;
        else {
          row.scores[s.name] = null;
          row.score_errors[s.name] = r.error;
        }
      }
      rows[i] = row;
      options.onCase?.(++done, cases.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, cases.length)) }, worker));
  const metrics: Record<string, number> = {
    cases: rows.length,
    answer_errors: rows.filter((r) => r.error !== null).length,
  };
  for (const s of scorers) {
    const scored = rows.map((r) => r.scores[s.name]).filter((v): v is number => typeof v === "number");
    if (scored.length) metrics[`${s.name}.mean`] = scored.reduce((a, b) => a + b, 0) / scored.length;
    metrics[`${s.name}.errors`] = rows.filter((r) => r.score_errors[s.name] !== undefined).length;
  }
  const tokens = (k: "input_tokens" | "output_tokens") => rows.reduce((n, r) => n + (r[k] ?? 0), 0);
  metrics.input_tokens = tokens("input_tokens");
  metrics.output_tokens = tokens("output_tokens");
  return { metrics, rows };
}

/** Unique scorer names: a second `regex` becomes `regex_2`. */
export function uniqueNames(scorers: Scorer[]): Scorer[] {
  const seen = new Map<string, number>();
  return scorers.map((s) => {
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    return n === 1 ? s : { ...s, name: `${s.name}_${n}` };
  });
}
