/** The example pipelines of docs/guides/executors.md are valid tandem.yaml (so the guide cannot rot). */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSpec } from "../../src/core/pipelines/spec/load.js";
import { formatIssue } from "../../src/core/pipelines/spec/positions.js";

const guide = readFileSync(resolve(import.meta.dirname, "../../docs/guides/executors.md"), "utf8");
const yamlBlocks = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
const heredocs = [...guide.matchAll(/<<'EOF'\n([\s\S]*?)\nEOF/g)].map((m) => `${m[1]!}\n`);

describe("docs/guides/executors.md", () => {
  it("has example pipelines, and every one is valid", () => {
    expect(yamlBlocks.length + heredocs.length).toBeGreaterThanOrEqual(3);
    for (const source of [...yamlBlocks, ...heredocs])
      expect(checkSpec(source, "guide.yaml").issues.map(formatIssue), source).toEqual([]);
  });
});
