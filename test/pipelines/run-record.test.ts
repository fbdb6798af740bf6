/**
 * What a run records reaches lineage (issue 15): a model registered by a manual run from a dirty
 * git checkout names that commit and the changed paths, and its environment node lists the parts
 * the digest covers (interpreter versions, lockfiles).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyOnnx } from "../helpers/onnx.js";
import { sandbox, type Sandbox } from "./helpers.js";

const SPEC = `project: default
pipelines:
  publish:
    steps:
      pack:
        run: cp \${{ inputs.onnx }} "$TANDEM_OUTPUT_MODEL/model.onnx"
        inputs:
          onnx: model.onnx
        outputs:
          model: dir
      register:
        uses: tandem/register
        with:
          model: m
          artifact: \${{ steps.pack.outputs.model }}
`;

describe("lineage shows the code and environment a run recorded", () => {
  let box: Sandbox;
  let head: string;
  beforeAll(async () => {
    box = await sandbox();
    writeFileSync(join(box.workspace, "model.onnx"), tinyOnnx({ features: ["a", "b"], weights: [1, -1] }));
    box.write("requirements.txt", "onnx==1.16.0\n");
    await box.apply(SPEC);
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", box.workspace, "-c", "user.email=t@t", "-c", "user.name=t", ...args], {
        encoding: "utf8",
      });
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-q", "-m", "one");
    head = git("rev-parse", "HEAD").trim();
    box.write("notes.txt", "not committed\n");
  });
  afterAll(async () => box?.close());

  it("names the commit, the dirty paths and the environment's parts", async () => {
    const run = await box.run("publish");
    expect(run.status, JSON.stringify(run.steps.map((s) => [s.name, s.error]))).toBe("succeeded");
    expect(run.code).toMatchObject({ commit: head, dirty: true, changed: ["notes.txt"] });
    const g = await box.opened.services.registry.lineage("default", "m@1");
    expect(g.snapshot).toMatchObject({ gitCommit: head, gitDirty: ["notes.txt"] });
    expect(g.version.lineage).toMatchObject({ gitCommit: head, gitDirty: ["notes.txt"] });
    const commitNode = g.nodes.find((n) => n.kind === "git_commit")!;
    expect(commitNode).toMatchObject({ label: `${head.slice(0, 12)} (dirty)`, attributes: { dirty: "notes.txt" } });
    const envNode = g.nodes.find((n) => n.kind === "environment")!;
    expect(Object.keys(envNode.attributes)).toEqual(
      expect.arrayContaining(["digest", "node", "python3", "requirements.txt"]),
    );
    expect(envNode.attributes.node).toMatch(/^v\d+\./);
  });
});
