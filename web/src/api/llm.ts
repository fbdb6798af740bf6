/** Wire shapes of the prompt registry, evaluations and traces (src/server/routes/prompts.ts, traces.ts). */

export interface PromptAliasWire {
  alias: string;
  version: number;
  updated_by: string;
  updated_at: number;
}

export interface PromptSummaryWire {
  name: string;
  description: string;
  latest_version: number | null;
  aliases: PromptAliasWire[];
  updated_at: number;
}

export interface PromptVersionWire {
  name: string;
  version: number;
  messages: Array<{ role: string; content: string }>;
  params: Record<string, unknown>;
  variables: string[];
  sha256: string;
  description: string;
  author: string;
  created_at: number;
  aliases: string[];
}

export interface PromptEvaluationWire {
  id: string;
  version: number;
  run_id: string | null;
  dataset: string;
  metrics: Record<string, number>;
  created_by: string;
  created_at: number;
}

export interface PromptWire {
  name: string;
  description: string;
  created_by: string;
  versions: PromptVersionWire[];
  aliases: PromptAliasWire[];
  evaluations: PromptEvaluationWire[];
}

export interface AliasEventWire {
  seq: number;
  alias: string;
  action: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  reason: string;
  at: number;
}

export type DiffOp = "same" | "add" | "del";

export interface PromptDiffWire {
  a: string;
  b: string;
  messages: Array<{
    index: number;
    role: { a: string | null; b: string | null };
    lines: Array<{ op: DiffOp; text: string }>;
  }>;
  params: Array<{ key: string; a: unknown; b: unknown }>;
  variables: { added: string[]; removed: string[] };
  changed: boolean;
}

export interface EvalCaseWire {
  line: number;
  variables: Record<string, unknown>;
  expected: unknown;
  answer: string | null;
  error: string | null;
  latency_ms: number;
  scores: Record<string, number | null>;
  score_errors: Record<string, string>;
}

export interface EvalCasesWire {
  evaluation: PromptEvaluationWire;
  evaluated: string;
  dataset: string;
  metrics: Record<string, number>;
  rows: EvalCaseWire[];
}

export interface TraceSummaryWire {
  trace_id: string;
  root_span_name: string;
  start_time: number;
  duration_ms: number;
  status: "ok" | "error";
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  span_count: number;
  prediction_id: string | null;
  attributes: Record<string, unknown>;
}

export interface SpanWire {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  service: string | null;
  start_time: number;
  duration_ms: number;
  status: "ok" | "error" | "unset";
  status_message: string | null;
  model: string | null;
  operation: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost: number | null;
  prediction_id: string | null;
  attributes: Record<string, unknown>;
}

/** Lines of a side-by-side diff: each row pairs an old line with a new one (null: nothing on that side). */
export function sideBySide(
  lines: Array<{ op: DiffOp; text: string }>,
): Array<{ a: string | null; b: string | null; op: DiffOp | "change" }> {
  const rows: Array<{ a: string | null; b: string | null; op: DiffOp | "change" }> = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.op === "same") {
      rows.push({ a: lines[i]!.text, b: lines[i]!.text, op: "same" });
      i++;
      continue;
    }
    // A run of deletions then additions pairs up line by line as changes.
    const dels: string[] = [];
    const adds: string[] = [];
    while (i < lines.length && lines[i]!.op === "del") dels.push(lines[i++]!.text);
    while (i < lines.length && lines[i]!.op === "add") adds.push(lines[i++]!.text);
    for (let k = 0; k < Math.max(dels.length, adds.length); k++) {
      const a = dels[k] ?? null;
      const b = adds[k] ?? null;
      rows.push({ a, b, op: a !== null && b !== null ? "change" : a !== null ? "del" : "add" });
    }
  }
  return rows;
}

/** Spans ordered as a tree (parents before children) with their depth, for the waterfall. */
export function spanTree(spans: SpanWire[]): Array<{ span: SpanWire; depth: number }> {
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map<string | null, SpanWire[]>();
  for (const s of spans) {
    const parent = s.parent_span_id && ids.has(s.parent_span_id) ? s.parent_span_id : null;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: Array<{ span: SpanWire; depth: number }> = [];
  const walk = (parent: string | null, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((x, y) => x.start_time - y.start_time)) {
      out.push({ span: s, depth });
      walk(s.span_id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}
