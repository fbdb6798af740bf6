/**
 * References whose last name is an Object.prototype member (`trigger.constructor`,
 * `steps.a.metrics.valueOf`) read the run's own data only: missing, they render as a missing field
 * does; logged, they render the logged value. Before, they rendered Object.prototype's functions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandbox, type Sandbox } from "./helpers.js";

describe("pipeline references named like prototype members", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
  });
  afterAll(async () => box?.close());

  it("renders trigger fields and metrics by their own values only", async () => {
    await box.apply(`pipelines:
  p:
    steps:
      a:
        run: |
          echo '{"acc": 0.9, "toString": 0.5}' > metrics.json
        metrics: metrics.json
      b:
        needs: [a]
        run: |
          printf '%s|' \${{ trigger.constructor }} \${{ trigger.nope }} \${{ steps.a.metrics.valueOf }} \\
            \${{ steps.a.metrics.hasOwnProperty }} \${{ steps.a.metrics.nope }} \${{ steps.a.metrics.toString }}
`);
    const run = await box.run("p");
    expect(run.status).toBe("succeeded");
    const { chunks } = await box.opened.services.pipelines.logs("default", run.id, { step: "b" });
    const printed = chunks.filter((c) => c.stream !== "system").map((c) => c.text);
    expect(printed).toEqual(["|||||0.5|"]);
  });
});
