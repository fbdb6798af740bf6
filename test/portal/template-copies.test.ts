/**
 * `tandem init` writes a template into the user's folder, which must stand on its own, so the llm
 * template carries its own copy of the example's stand-in LLM. The copies must not drift apart.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

describe("template copies of the examples", () => {
  it("the llm template's stand-in is examples/llm's, byte for byte", () => {
    const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
    expect(read("templates/llm/standin/server.mjs")).toBe(read("examples/llm/standin/server.mjs"));
  });
});
