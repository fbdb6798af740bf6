/** `tandem step-agent` by hand: stdin that is not an executor's job is a usage error (exit 2), not a stack trace. */
import { describe, expect, it } from "vitest";
import { cli } from "../pipelines/cli.js";

describe("tandem step-agent", () => {
  it("refuses stdin that is not a job, saying what it expects", { timeout: 180_000 }, async () => {
    const notJson = await cli(["step-agent"], { cwd: "/tmp", env: {}, input: "hello" });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/stdin is not JSON: the step agent reads the job a Tandem executor sends it/);
    const notJob = await cli(["step-agent"], { cwd: "/tmp", env: {}, input: '{"script":"id"}' });
    expect(notJob.code).toBe(2);
    expect(notJob.stderr).toMatch(/not a step-agent job/);
    expect(notJob.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
