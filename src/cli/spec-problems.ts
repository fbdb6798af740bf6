/**
 * One way to report a tandem.yaml that does not hold: `validate`, `apply` and `run` print the
 * same `file:line:column: field: message` lines on stderr, then `error: FILE: N problems`, exit 2.
 */
import { formatIssue, type SpecIssue } from "../core/pipelines/spec/positions.js";
import { ApiError } from "./api.js";
import { UsageError } from "./context.js";

export class SpecProblemsError extends UsageError {
  constructor(
    readonly file: string,
    readonly issues: SpecIssue[],
  ) {
    super(`${file}: ${issues.length} problem${issues.length === 1 ? "" : "s"}`);
    this.name = "SpecProblemsError";
  }

  /** What the CLI prints: each problem on its line, then the count. */
  describe(): string {
    return [...this.issues.map(formatIssue), `error: ${this.message}`].join("\n");
  }
}

function isSpecIssue(value: unknown): value is SpecIssue {
  const i = value as Partial<SpecIssue> | null;
  return typeof i?.file === "string" && typeof i.line === "number" && typeof i.column === "number";
}

/** The spec problems an API error carries (from `POST /specs`), or null when it is another error. */
export function specProblemsOf(error: unknown, file: string): SpecProblemsError | null {
  if (!(error instanceof ApiError) || error.code !== "INVALID_INPUT") return null;
  const issues = (error.details as { issues?: unknown[] } | undefined)?.issues;
  if (!Array.isArray(issues) || issues.length === 0 || !issues.every(isSpecIssue)) return null;
  return new SpecProblemsError(file, issues);
}
