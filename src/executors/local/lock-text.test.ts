import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { ArtifactStore } from "../../core/artifacts/ports.js";
import { holdsOnlyPipeline } from "./lock-text.js";
import { LocalWorkspace } from "./workspace.js";

const lockOf = (pipelines: Record<string, unknown>) =>
  "# tandem.lock: written by `tandem run`.\n# (sha256) of every step.\n" +
  stringify({ schema: 1, pipelines }, { sortMapEntries: true, lineWidth: 0 });

const entry = () => ({
  spec_digest: "ab",
  params: { a: 1 },
  steps: { s1: { cmd: "echo one\necho two\n  indented: no\n", cache_key: "k", params: {}, deps: {}, outs: {} } },
});

describe("holdsOnlyPipeline", () => {
  it("recognises a lock written for one pipeline, multi-line commands included", () => {
    expect(holdsOnlyPipeline(lockOf({ train: entry() }), "train")).toBe(true);
    expect(holdsOnlyPipeline("", "train")).toBe(true);
  });

  it("sends every other shape to a full parse", () => {
    expect(holdsOnlyPipeline(lockOf({ train: entry(), other: entry() }), "train")).toBe(false);
    expect(holdsOnlyPipeline(lockOf({ other: entry() }), "train")).toBe(false);
    expect(holdsOnlyPipeline("schema: 1\npipelines: { other: {} }\n", "train")).toBe(false);
    expect(holdsOnlyPipeline("schema: 1\npipelines:\n  train:\n    x: 1\n  other: {}\n", "train")).toBe(false);
    expect(holdsOnlyPipeline("schema: 1\npipelines:\n\ttrain: {}\n", "train")).toBe(false);
    expect(holdsOnlyPipeline("---\nschema: 1\n", "train")).toBe(false);
    expect(holdsOnlyPipeline("schema: 1\nextra: 2\n", "train")).toBe(false);
  });
});

describe("LocalWorkspace.writeLock", () => {
  it("keeps the other pipelines' entries and replaces this one's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-"));
    try {
      const workspace = new LocalWorkspace({} as ArtifactStore);
      const lock = (cmd: string) => ({
        spec_digest: "d",
        params: {},
        steps: { s: { cmd, cache_key: null, params: {}, deps: {}, outs: {} } },
      });
      await workspace.writeLock(dir, "a", lock("one"));
      await workspace.writeLock(dir, "a", lock("two"));
      await workspace.writeLock(dir, "b", lock("three"));
      await workspace.writeLock(dir, "a", lock("four"));
      const written = parse(readFileSync(join(dir, "tandem.lock"), "utf8")) as {
        pipelines: Record<string, { steps: { s: { cmd: string } } }>;
      };
      expect(Object.keys(written.pipelines).sort()).toEqual(["a", "b"]);
      expect(written.pipelines.a!.steps.s.cmd).toBe("four");
      expect(written.pipelines.b!.steps.s.cmd).toBe("three");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
