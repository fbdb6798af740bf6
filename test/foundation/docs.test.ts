import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateReferences } from "../../scripts/reference-docs.js";

describe("generated references", () => {
  it("match the code (run `npm run docs` after changing the CLI, routes or spec schema)", async () => {
    const generated = await generateReferences();
    for (const [path, content] of Object.entries(generated)) {
      const committed = readFileSync(join(process.cwd(), "docs", "reference", path), "utf8");
      expect(committed, `docs/reference/${path} is stale: run npm run docs`).toBe(content);
    }
  });
});
