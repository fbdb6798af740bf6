/**
 * A prompt version's content: checking it (roles, placeholders, parameters), its canonical hash,
 * references (`name@N`, `name@alias`, `name@latest`, bare `name`) and the diff of two versions.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { InvalidInputError } from "../errors.js";
import { checkAlias } from "../registry/refs.js";
import type { ChatMessage, ModelParams, PromptVersion } from "./model.js";
import { messageVariables } from "./template.js";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/;

export const chatMessageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool", "developer"]),
  content: z.string(),
});

export const modelParamsSchema = z.strictObject({
  model: z.string().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().min(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
});

export const promptContentSchema = z.strictObject({
  description: z.string().optional(),
  messages: z.array(chatMessageSchema).min(1, { error: "a prompt needs at least one message" }),
  params: modelParamsSchema.optional(),
});

export type PromptContent = z.infer<typeof promptContentSchema>;

export function checkPromptName(name: string): void {
  if (!NAME.test(name))
    throw new InvalidInputError(
      `prompt name ${JSON.stringify(name)} is not valid: use letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit)`,
    );
}

export type PromptSelector =
  { kind: "number"; version: number } | { kind: "latest" } | { kind: "alias"; alias: string };

export function parsePromptRef(ref: string): { name: string; selector: PromptSelector } {
  const at = ref.lastIndexOf("@");
  const name = at < 0 ? ref : ref.slice(0, at);
  checkPromptName(name);
  if (at < 0) return { name, selector: { kind: "latest" } };
  const sel = ref.slice(at + 1);
  if (sel === "" || sel === "latest") {
    if (sel === "") throw new InvalidInputError(`prompt reference ${JSON.stringify(ref)}: nothing after '@'`);
    return { name, selector: { kind: "latest" } };
  }
  const num = /^v?(\d+)$/.exec(sel);
  if (num) return { name, selector: { kind: "number", version: Number(num[1]) } };
  checkAlias(sel);
  return { name, selector: { kind: "alias", alias: sel } };
}

/** Checks content and returns what a version stores: placeholders found, hash of the canonical form. */
export function normalizeContent(content: PromptContent): {
  messages: ChatMessage[];
  params: ModelParams;
  variables: string[];
  sha256: string;
} {
  const messages = content.messages.map((m) => ({ role: m.role, content: m.content }));
  const params: ModelParams = {};
  for (const key of ["model", "temperature", "max_tokens", "top_p"] as const) {
    const v = content.params?.[key];
    if (v !== undefined) (params as Record<string, unknown>)[key] = v;
  }
  const variables = messageVariables(messages);
  const sha256 = createHash("sha256").update(JSON.stringify({ messages, params })).digest("hex");
  return { messages, params, variables, sha256 };
}

export type DiffOp = "same" | "add" | "del";

export interface MessageDiff {
  index: number;
  role: { a: string | null; b: string | null };
  lines: Array<{ op: DiffOp; text: string }>;
}

export interface PromptDiff {
  a: string;
  b: string;
  messages: MessageDiff[];
  params: Array<{ key: string; a: unknown; b: unknown }>;
  variables: { added: string[]; removed: string[] };
  changed: boolean;
}

/** Line diff by longest common subsequence (prompts are short: quadratic is fine). */
export function lineDiff(a: string[], b: string[]): Array<{ op: DiffOp; text: string }> {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: Array<{ op: DiffOp; text: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: "same", text: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ op: "del", text: a[i++]! });
    else out.push({ op: "add", text: b[j++]! });
  }
  while (i < n) out.push({ op: "del", text: a[i++]! });
  while (j < m) out.push({ op: "add", text: b[j++]! });
  return out;
}

export function diffVersions(a: PromptVersion, b: PromptVersion): PromptDiff {
  const messages: MessageDiff[] = [];
  for (let i = 0; i < Math.max(a.messages.length, b.messages.length); i++) {
    const ma = a.messages[i];
    const mb = b.messages[i];
    messages.push({
      index: i,
      role: { a: ma?.role ?? null, b: mb?.role ?? null },
      lines: lineDiff(ma ? ma.content.split("\n") : [], mb ? mb.content.split("\n") : []),
    });
  }
  const keys = [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])].sort();
  const params = keys
    .map((key) => ({
      key,
      a: (a.params as Record<string, unknown>)[key] ?? null,
      b: (b.params as Record<string, unknown>)[key] ?? null,
    }))
    .filter((p) => p.a !== p.b);
  const variables = {
    added: b.variables.filter((v) => !a.variables.includes(v)),
    removed: a.variables.filter((v) => !b.variables.includes(v)),
  };
  const changed =
    params.length > 0 ||
    messages.some((m) => m.role.a !== m.role.b || m.lines.some((l) => l.op !== "same")) ||
    a.sha256 !== b.sha256;
  return { a: `${a.name}@${a.version}`, b: `${b.name}@${b.version}`, messages, params, variables, changed };
}
