/**
 * Prompt templates: `{{ variable }}` placeholders and nothing else. No filters, no conditions, no
 * loops, no dotted paths: a prompt is data that an evaluation can judge, not a program. Anything
 * between `{{` and `}}` that is not one identifier is refused when the version is created, and a
 * variable missing at render time is an error that names it (never an empty string: a silently
 * blank prompt is the worst kind of wrong answer).
 */
import { InvalidInputError, UnprocessableError } from "../errors.js";
import type { ChatMessage } from "./model.js";

const PLACEHOLDER = /\{\{([\s\S]*?)\}\}/g;
const IDENT = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/;
const BLOCK = /\{%|%\}/;

/** The variables one text uses; throws naming the bad placeholder (`where` prefixes the message). */
export function templateVariables(text: string, where: string): string[] {
  if (BLOCK.test(text))
    throw new InvalidInputError(`${where}: "{% … %}" blocks are not supported: placeholders are {{ variable }} only`);
  const out: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    const ident = IDENT.exec(m[1]!);
    if (!ident)
      throw new InvalidInputError(
        `${where}: placeholder ${JSON.stringify(m[0])} is not a variable name; prompts take {{ name }} with no logic (letters, digits, _)`,
      );
    // Variables come from JSON objects, and no request body may carry this key (the server refuses it).
    if (ident[1] === "__proto__")
      throw new InvalidInputError(
        `${where}: placeholder ${JSON.stringify(m[0])}: the name __proto__ is reserved (every JavaScript object has it): rename it`,
      );
    out.push(ident[1]!);
  }
  const rest = text.replace(PLACEHOLDER, "");
  if (rest.includes("{{") || rest.includes("}}"))
    throw new InvalidInputError(`${where}: an unclosed "{{" or a stray "}}"`);
  return out;
}

/** Every variable the messages use, sorted and unique. */
export function messageVariables(messages: ChatMessage[]): string[] {
  const all = new Set<string>();
  messages.forEach((m, i) => templateVariables(m.content, `messages[${i}].content`).forEach((v) => all.add(v)));
  return [...all].sort();
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** A message list split once into literal text and variable names: rendering is then a concatenation. */
interface CompiledMessages {
  variables: string[];
  /** Per message: literal, name, literal, name, …, literal. */
  parts: string[][];
}

// Keyed by the stored version's messages array, which a served version keeps for its life.
const compiledCache = new WeakMap<ChatMessage[], CompiledMessages>();

function compiled(messages: ChatMessage[]): CompiledMessages {
  let c = compiledCache.get(messages);
  if (!c) {
    c = {
      variables: messageVariables(messages),
      parts: messages.map((m) => m.content.split(PLACEHOLDER).map((p, i) => (i % 2 ? IDENT.exec(p)![1]! : p))),
    };
    compiledCache.set(messages, c);
  }
  return c;
}

/**
 * Renders the messages with `variables`. A missing variable is an UnprocessableError naming every
 * missing one (the caller's input is wrong, not the prompt); non-string values are written as JSON.
 */
export function renderMessages(
  messages: ChatMessage[],
  variables: Record<string, unknown>,
  promptRef: string,
): ChatMessage[] {
  const { variables: used, parts } = compiled(messages);
  // Own keys only: a case without `constructor` must not render Object's function.
  const missing = used.filter(
    (v) => !Object.hasOwn(variables, v) || variables[v] === undefined || variables[v] === null,
  );
  if (missing.length)
    throw new UnprocessableError(
      `prompt ${promptRef} needs variable${missing.length > 1 ? "s" : ""} ${missing.map((m) => JSON.stringify(m)).join(", ")}; got ${
        Object.keys(variables).length
          ? Object.keys(variables)
              .map((k) => JSON.stringify(k))
              .join(", ")
          : "none"
      }`,
      { missing },
    );
  return messages.map((m, i) => {
    const split = parts[i]!;
    let content = split[0]!;
    for (let j = 1; j < split.length; j += 2) content += stringify(variables[split[j]!]) + split[j + 1]!;
    return { role: m.role, content };
  });
}
