/**
 * `tandem runs logs RUN --step train` on a matrix run (issue 23): an instance name is accepted, also
 * written loosely; the bare name lists the instance names; an unknown one still says not found.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandbox, type Sandbox } from "./helpers.js";
import type { RunWithSteps } from "../../src/core/pipelines/service.js";

const SPEC = `project: default
pipelines:
  sweep:
    steps:
      train:
        run: echo "training at \${{ matrix.learning_rate }} depth \${{ matrix.depth }}"
        matrix: { learning_rate: [0.01, 0.1], depth: [3] }
`;

describe("naming a matrix instance", () => {
  let box: Sandbox;
  let run: RunWithSteps;
  beforeAll(async () => {
    box = await sandbox();
    await box.apply(SPEC);
    run = await box.run("sweep");
  });
  afterAll(async () => {
    await box?.close();
  });

  const logText = async (step: string) =>
    (await box.opened.services.pipelines.logs("default", run.id, { step })).chunks.map((c) => c.text).join("");

  it("accepts the instance name, exactly or with spaces and keys reordered", async () => {
    expect(run.status).toBe("succeeded");
    expect(await logText("train[learning_rate=0.01,depth=3]")).toContain("training at 0.01 depth 3");
    expect(await logText("train[depth=3, learning_rate=0.1]")).toContain("training at 0.1 depth 3");
  });

  it("given the bare name, lists the instance names (exit 2, not 4)", async () => {
    const error = await box.opened.services.pipelines.logs("default", run.id, { step: "train" }).catch((e) => e);
    expect(error).toMatchObject({ code: "INVALID_INPUT" });
    expect(error.message).toBe(
      `step train of run ${run.id} ran as 2 matrix instances; name one (quoted): 'train[learning_rate=0.01,depth=3]', 'train[learning_rate=0.1,depth=3]'`,
    );
    await expect(
      box.opened.services.pipelines.logs("default", run.id, { step: "train[learning_rate=0.5,depth=3]" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(box.opened.services.pipelines.logs("default", run.id, { step: "evaluate" })).rejects.toThrow(
      /has no step evaluate \(steps: train\[learning_rate=0\.01,depth=3\], train\[learning_rate=0\.1,depth=3\]\)/,
    );
  });
});
