/**
 * Reading a tandem.yaml: YAML 1.2 (core schema) → zod schema → semantic checks. Every problem is a
 * SpecIssue with file:line:column and the field; `loadSpec` throws them all at once as a SpecError.
 */
import type { z } from "zod";
import { InvalidInputError } from "../../errors.js";
import { documentValue, specDocument } from "./document.js";
import { formatIssue, SpecLocator, type SpecIssue, type SpecPath } from "./positions.js";
import { tandemSpecSchema, type TandemSpec } from "./schema.js";
import { validateSpec, type ValidateOptions } from "./validate.js";

export class SpecError extends InvalidInputError {
  constructor(readonly issues: SpecIssue[]) {
    super(issues.map(formatIssue).join("\n"), {
      issues: issues.map((i) => ({ file: i.file, line: i.line, column: i.column, field: i.field, message: i.message })),
    });
  }
}

function zodIssues(error: z.ZodError, at: SpecLocator): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol") as SpecPath;
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push(at.issue([...path, key], `unknown key "${key}"`, { key: true }));
    } else if (issue.code === "invalid_union") {
      // Report the branch that got furthest: its deepest issue says what is really wrong.
      const branches = issue.errors.map((errs) => errs);
      const best = branches.sort(
        (a, b) => Math.max(0, ...b.map((i) => i.path.length)) - Math.max(0, ...a.map((i) => i.path.length)),
      )[0];
      const deep = best?.find((i) => i.path.length > 0);
      if (deep && deep.code !== "invalid_type") {
        out.push(
          ...zodIssues(
            { issues: best!.map((i) => ({ ...i, path: [...path, ...i.path] })) } as unknown as z.ZodError,
            at,
          ),
        );
      } else
        out.push(
          at.issue(
            path,
            issue.message === "Invalid input"
              ? "invalid value (see tandem schema for the allowed forms)"
              : issue.message,
          ),
        );
    } else {
      out.push(at.issue(path, issue.message));
    }
  }
  return out;
}

export interface LoadedSpec {
  spec: TandemSpec;
  /** The file's text, as read (stored by `tandem apply`). */
  source: string;
  file: string;
}

/** Parses and checks a spec; returns the issues instead of throwing. */
export function checkSpec(
  source: string,
  file = "tandem.yaml",
  options: ValidateOptions = {},
): { spec?: TandemSpec; issues: SpecIssue[]; at: SpecLocator } {
  const { doc, lines } = specDocument(source);
  const at = new SpecLocator(file, source, doc, lines);
  if (doc.errors.length > 0) {
    return {
      at,
      issues: doc.errors.map((e) => {
        const message = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
        const key = /^[^\s:#]+/.exec(source.slice(e.pos[0]))?.[0];
        const friendly = e.code === "DUPLICATE_KEY" ? `duplicate key: ${key ?? ""} (${message})` : message;
        return at.issueAt(e.pos[0], "(yaml)", friendly);
      }),
    };
  }
  const built = documentValue(doc);
  if (!("value" in built)) return { at, issues: [at.issueAt(built.offset, "(yaml)", built.message)] };
  const reserved = protoKeyIssues(built.value, [], at);
  if (reserved.length > 0) return { at, issues: reserved };
  const parsed = tandemSpecSchema.safeParse(built.value ?? {});
  if (!parsed.success) return { issues: zodIssues(parsed.error, at), at };
  withoutPrototypes(parsed.data);
  const issues = validateSpec(parsed.data, at, options);
  return issues.length ? { issues, at } : { spec: parsed.data, issues, at };
}

/**
 * A key `__proto__` anywhere: zod's records and objects drop it (assigning it would set the result's
 * prototype), so `env: {__proto__: x}` or a pipeline of that name vanished without a word. Refused,
 * naming the field; every other key is data.
 */
function protoKeyIssues(value: unknown, path: SpecPath, at: SpecLocator): SpecIssue[] {
  if (typeof value !== "object" || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => protoKeyIssues(item, [...path, i], at));
  const out: SpecIssue[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (key === "__proto__")
      out.push(
        at.issue([...path, key], 'the key "__proto__" is reserved (every JavaScript object has it): rename it', {
          key: true,
        }),
      );
    else out.push(...protoKeyIssues(item, [...path, key], at));
  }
  return out;
}

/**
 * Every map of a spec is keyed by the user's names (pipelines, steps, params, outputs, env…), and
 * names such as `toString` or `constructor` pass the name rule. As plain objects they would find
 * Object.prototype's members: `needs: [toString]` validated and ran a phantom step, `tandem run
 * constructor` answered 500. Without a prototype, a lookup sees only what the spec declares.
 */
function withoutPrototypes(value: unknown): void {
  if (typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) withoutPrototypes(item);
    return;
  }
  Object.setPrototypeOf(value, null);
  for (const item of Object.values(value)) withoutPrototypes(item);
}

/** `tandem.yaml:12:9: pipelines.p.steps.s.with.dataset` for a path in a spec's source. */
export function specPlaces(source: string, file: string): (path: SpecPath) => string {
  let at: SpecLocator | undefined;
  return (path) => {
    if (!at) {
      const { doc, lines } = specDocument(source);
      at = new SpecLocator(file, source, doc, lines);
    }
    const i = at.issue(path, "");
    return `${i.file}:${i.line}:${i.column}: ${i.field}`;
  };
}

export function loadSpec(source: string, file = "tandem.yaml", options: ValidateOptions = {}): LoadedSpec {
  const { spec, issues } = checkSpec(source, file, options);
  if (!spec) throw new SpecError(issues);
  return { spec, source, file };
}
