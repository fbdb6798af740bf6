/**
 * Scorers of an evaluation: each takes a case and the answer and gives a score in [0, 1] (or the
 * scorer's own scale for `numeric` and `llm_judge`), or an error. An error is recorded as an error,
 * never as a number: a judge that answers "probably good" has not scored the case, and averaging a
 * guessed 0 into the metric would hide it.
 *
 * - `exact`: answer === expected (both trimmed). `contains`: the answer contains expected (or every
 *   string in `contains: [..]`), case-insensitive unless `case_sensitive: true`.
 * - `regex`: the answer matches the pattern. `json_schema`: the answer parses as JSON and validates.
 * - `numeric`: the first number in the answer is within `tolerance` (absolute, default 0) of expected.
 * - `command`: runs a shell command with `{"case", "answer"}` on stdin; its stdout is one number. It
 *   is code from the project's tandem.yaml: it starts through `launch` (tandem/eval: the steps'
 *   sandbox) and is refused where there is none.
 * - `llm_judge`: sends the rubric, the case and the answer to an OpenAI-compatible URL and reads
 *   `SCORE: <number>` from the reply, strictly (the last such line; anything else is an error).
 */
import { spawn } from "node:child_process";
import { z } from "zod";
import { InvalidInputError } from "../errors.js";
import type { UserCodeLauncher } from "../ports.js";
import { complete, type UpstreamFetch } from "./upstream.js";

export interface EvalCase {
  /** Line number in the cases file (1-based). */
  line: number;
  variables: Record<string, unknown>;
  expected: unknown;
  rubric: string | null;
}

export type ScoreResult = { score: number } | { error: string };

export const scorerSpecSchema = z.union([
  z.enum(["exact", "contains", "json_schema", "numeric"]),
  z.strictObject({ exact: z.strictObject({}).optional().nullable() }),
  z.strictObject({
    contains: z.union([
      z.array(z.string()).min(1),
      z.strictObject({ case_sensitive: z.boolean().optional() }),
      z.null(),
    ]),
  }),
  z.strictObject({ regex: z.string().min(1) }),
  z.strictObject({ json_schema: z.record(z.string(), z.unknown()) }),
  z.strictObject({ numeric: z.strictObject({ tolerance: z.number().min(0).default(0) }) }),
  z.strictObject({ command: z.string().min(1) }),
  z.strictObject({
    llm_judge: z.strictObject({
      url: z.string().url(),
      model: z.string().min(1),
      rubric: z.string().min(1).optional(),
      api_key_secret: z.string().optional(),
      /** Highest score the rubric gives (default 1); scores are divided by it. */
      scale: z.number().positive().default(1),
      timeout_seconds: z.number().positive().default(60),
    }),
  }),
]);
export type ScorerSpec = z.infer<typeof scorerSpecSchema>;

export interface Scorer {
  name: string;
  score(c: EvalCase, answer: string): Promise<ScoreResult>;
}

export interface ScorerDeps {
  /** The guarded fetch for judge URLs. */
  fetcher?: UpstreamFetch;
  secret(name: string): Promise<string>;
  /**
   * How `command` scorers start, and in which directory: tandem/eval gives the steps' sandbox and the
   * step's directory. Without it command scorers are refused (the server runs nothing a project
   * wrote in its own name).
   */
  commands?: { launch: UserCodeLauncher; dir: string; show?: readonly string[] };
  signal?: AbortSignal;
}

const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** Reads `SCORE: n` strictly: the last line that says it, with nothing else on it. */
export function parseJudgement(reply: string, scale: number): ScoreResult {
  const lines = reply.split("\n").map((l) => l.trim());
  const found = lines.filter((l) => /^SCORE\s*:/i.test(l));
  if (found.length === 0)
    return { error: `the judge gave no "SCORE: <number>" line: ${JSON.stringify(reply.slice(0, 120))}` };
  const m = /^SCORE\s*:\s*(-?\d+(?:\.\d+)?)\s*$/i.exec(found.at(-1)!);
  if (!m) return { error: `the judge's score is not a number: ${JSON.stringify(found.at(-1))}` };
  const value = Number(m[1]);
  if (value < 0 || value > scale) return { error: `the judge's score ${value} is outside 0..${scale}` };
  return { score: value / scale };
}

async function runCommand(
  commands: NonNullable<ScorerDeps["commands"]>,
  command: string,
  input: string,
  signal?: AbortSignal,
): Promise<string> {
  const { launch, dir, show } = commands;
  const { argv, env } = await launch({ command: ["/bin/sh", "-c", command], dir, env: {}, show });
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, env, signal, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`exited with ${code}: ${err.trim().slice(0, 200)}`)),
    );
    child.stdin.end(input);
  });
}

export function buildScorer(spec: ScorerSpec, deps: ScorerDeps, where: string): Scorer {
  const kind = typeof spec === "string" ? spec : Object.keys(spec)[0]!;
  const options = typeof spec === "string" ? null : (spec as Record<string, unknown>)[kind];
  switch (kind) {
    case "exact":
      return {
        name: "exact",
        score: (c, a) => Promise.resolve({ score: Number(a.trim() === text(c.expected).trim()) }),
      };
    case "contains": {
      const sensitive = !Array.isArray(options) && (options as { case_sensitive?: boolean } | null)?.case_sensitive;
      const norm = (s: string) => (sensitive ? s : s.toLowerCase());
      return {
        name: "contains",
        score: (c, a) => {
          const needles = Array.isArray(options) ? (options as string[]) : [text(c.expected)];
          return Promise.resolve({ score: Number(needles.every((n) => norm(a).includes(norm(n)))) });
        },
      };
    }
    case "regex": {
      let re: RegExp;
      try {
        re = new RegExp(options as string);
      } catch (error) {
        throw new InvalidInputError(`${where}.regex: ${(error as Error).message}`);
      }
      return { name: "regex", score: (_c, a) => Promise.resolve({ score: Number(re.test(a)) }) };
    }
    case "json_schema": {
      const schema = options ? z.fromJSONSchema(options as never) : null;
      return {
        name: "json_schema",
        score: (c, a) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(a);
          } catch {
            return Promise.resolve({ score: 0 });
          }
          const s =
            schema ?? (c.expected && typeof c.expected === "object" ? z.fromJSONSchema(c.expected as never) : null);
          return Promise.resolve({ score: s ? Number(s.safeParse(parsed).success) : 1 });
        },
      };
    }
    case "numeric": {
      const tolerance = (options as { tolerance?: number } | null)?.tolerance ?? 0;
      return {
        name: "numeric",
        score: (c, a) => {
          const m = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(a.replace(/,/g, ""));
          const expected = Number(c.expected);
          if (!Number.isFinite(expected))
            return Promise.resolve({ error: `case line ${c.line}: expected is not a number` });
          if (!m) return Promise.resolve({ score: 0 });
          return Promise.resolve({ score: Number(Math.abs(Number(m[0]) - expected) <= tolerance) });
        },
      };
    }
    case "command": {
      const commands = deps.commands;
      if (!commands) throw new InvalidInputError(`${where}: command scorers run only in tandem/eval steps`);
      return {
        name: "command",
        score: async (c, a) => {
          try {
            const out = (
              await runCommand(commands, options as string, JSON.stringify({ case: c, answer: a }), deps.signal)
            ).trim();
            if (!/^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/.test(out))
              return { error: `the command printed ${JSON.stringify(out.slice(0, 80))}, not one number` };
            return { score: Number(out) };
          } catch (error) {
            return { error: `the command failed: ${(error as Error).message}` };
          }
        },
      };
    }
    case "llm_judge": {
      const o = options as Extract<ScorerSpec, { llm_judge: unknown }>["llm_judge"];
      return {
        name: "llm_judge",
        score: async (c, a) => {
          const rubric = c.rubric ?? o.rubric;
          if (!rubric) return { error: `case line ${c.line}: no rubric (give one in the case or the scorer)` };
          try {
            const reply = await complete({
              baseUrl: o.url,
              apiKey: o.api_key_secret ? await deps.secret(o.api_key_secret) : null,
              model: o.model,
              params: { temperature: 0 },
              timeoutMs: o.timeout_seconds * 1000,
              fetcher: deps.fetcher,
              messages: [
                {
                  role: "system",
                  content: `You grade answers against a rubric. Reply with your reasoning, then a last line "SCORE: <number from 0 to ${o.scale}>".`,
                },
                {
                  role: "user",
                  content: `Rubric:\n${rubric}\n\nInput:\n${JSON.stringify(c.variables)}\n\nExpected:\n${text(c.expected ?? "")}\n\nAnswer:\n${a}`,
                },
              ],
            });
            return parseJudgement(reply.answer, o.scale);
          } catch (error) {
            return { error: `the judge failed: ${(error as Error).message}` };
          }
        },
      };
    }
    default:
      throw new InvalidInputError(`${where}: unknown scorer ${JSON.stringify(kind)}`);
  }
}

/** Reads a cases file: JSON Lines of `{variables | input, expected, rubric}`; errors name the line. */
export function parseCases(source: string, file: string): EvalCase[] {
  const out: EvalCase[] = [];
  source.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (error) {
      throw new InvalidInputError(`${file}:${i + 1}: not JSON: ${(error as Error).message}`);
    }
    if (typeof o !== "object" || o === null || Array.isArray(o))
      throw new InvalidInputError(`${file}:${i + 1}: expected an object {variables | input, expected, rubric}`);
    const r = o as Record<string, unknown>;
    const variables =
      r.variables && typeof r.variables === "object" && !Array.isArray(r.variables)
        ? { ...(r.variables as Record<string, unknown>) }
        : {};
    if (r.input !== undefined && variables.input === undefined) variables.input = r.input;
    if (Object.keys(variables).length === 0)
      throw new InvalidInputError(`${file}:${i + 1}: a case needs variables (or input)`);
    out.push({
      line: i + 1,
      variables,
      expected: r.expected ?? null,
      rubric: typeof r.rubric === "string" ? r.rubric : null,
    });
  });
  if (out.length === 0) throw new InvalidInputError(`${file}: no cases`);
  return out;
}
