import { describe, expect, it } from "vitest";
import { SpecError } from "../core/pipelines/spec/load.js";
import { formatIssue } from "../core/pipelines/spec/positions.js";
import { parsePromptFile } from "./prompt-file.js";

const issuesOf = (source: string): string[] => {
  try {
    parsePromptFile(source, "qa.yaml");
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
};

describe("a prompt file", () => {
  it("reads its messages", () => {
    const content = parsePromptFile("messages:\n  - role: user\n    content: Hi {{name}}\n", "qa.yaml");
    expect(content.messages).toEqual([{ role: "user", content: "Hi {{name}}" }]);
  });

  it("names an alias without its anchor at its place, not as an internal error", () => {
    expect(issuesOf("messages:\n  - role: user\n    content: *greeting\n")).toEqual([
      "qa.yaml:3:14: (yaml): unresolved alias *greeting: the anchor &greeting must be set before the alias",
    ]);
  });
});
