import { describe, expect, it } from "vitest";
import { pipelineBlobRoutes } from "./routes/pipeline-blobs.js";
import { pipelineRoutes } from "./routes/pipelines.js";
import { isTrackingRoute } from "./token-scope.js";

describe("a tracking-only step token", () => {
  it("still moves its run's own step inputs and outputs (remote steps), and nothing else of pipelines", () => {
    expect(pipelineBlobRoutes.map(isTrackingRoute)).toEqual([true, true]);
    const others = pipelineRoutes.filter((r) => !pipelineBlobRoutes.includes(r));
    expect(others.filter(isTrackingRoute).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });
});
