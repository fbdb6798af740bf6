/**
 * `tandem validate` on where steps run: the deprecated `resources.image` is a warning naming the new
 * field, a kubernetes step without an image is an error, resources on a local step warn that nothing
 * enforces them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandbox, type Sandbox } from "./helpers.js";

const PIN = `@sha256:${"b".repeat(64)}`;

describe("tandem validate: executors", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
  });
  afterAll(async () => box?.close());
  const check = (source: string) =>
    box.opened.services.pipelines.specs.check("default", { source, workspace: box.workspace });
  const text = (i: { line: number; column: number; field: string; message: string }) =>
    `${i.line}:${i.column}: ${i.field}: ${i.message}`;

  it("warns that resources.image is deprecated, and that the local executor does not enforce resources", async () => {
    const res = await check(`pipelines:
  p:
    steps:
      old:
        run: echo hi
        resources: { image: "python${PIN}" }
      both:
        run: echo hi
        image: python${PIN}
        resources: { image: "python${PIN}" }
      big:
        run: echo hi
        resources: { cpu: 2 }
`);
    expect(res.issues).toEqual([]);
    expect(res.warnings.map(text)).toEqual([
      "6:29: pipelines.p.steps.old.resources.image: resources.image is deprecated: write image: on the step (or its pipeline)",
      "10:29: pipelines.p.steps.both.resources.image: resources.image is deprecated and ignored here: the step's image: wins",
      "13:20: pipelines.p.steps.big.resources: the local executor does not enforce resources: the step runs with whatever this machine has (use executor: slurm or kubernetes)",
    ]);
  });

  it("refuses a kubernetes step without an image, on the step or through its pipeline", async () => {
    const res = await check(`pipelines:
  p:
    executor: kubernetes
    steps:
      a:
        run: echo hi
      b:
        run: echo hi
        image: busybox${PIN}
  q:
    steps:
      c:
        run: echo hi
        executor: kubernetes
`);
    expect(res.issues.map(text)).toEqual([
      "3:15: pipelines.p.executor: a kubernetes step needs an image: (on the step or its pipeline)",
      "14:19: pipelines.q.steps.c.executor: a kubernetes step needs an image: (on the step or its pipeline)",
    ]);
  });

  it("takes the pipeline's tag-only image as a warning on the pipeline's field", async () => {
    const res = await check(`pipelines:
  p:
    executor: local
    image: python:3.12
    steps:
      a:
        run: echo hi
`);
    expect(res.warnings.map(text)).toEqual([
      "4:12: pipelines.p.image: image python:3.12 is a tag, not a digest: pin it (name@sha256:…) so the environment cannot change under the same cache key",
    ]);
  });
});

describe("a step on an executor this server does not have", () => {
  it("fails with the reason instead of running somewhere else; validate warns first", async () => {
    const box = await sandbox({ TANDEM_EXECUTOR: "local" });
    try {
      const source = `pipelines:
  p:
    steps:
      here:
        run: echo here
      there:
        executor: kubernetes
        image: busybox${PIN}
        run: echo there
`;
      const checked = await box.opened.services.pipelines.specs.check("default", { source, workspace: box.workspace });
      expect(checked.warnings.map((w) => `${w.line}: ${w.message}`)).toEqual([
        "7: executor kubernetes cannot run here: it is not configured on this server (no Kubernetes cluster is configured (not in a pod, no KUBECONFIG, no ~/.kube/config))",
      ]);
      await box.apply(source);
      const run = await box.run("p");
      const steps = Object.fromEntries(run.steps.map((s) => [s.name, s]));
      expect(steps.here!.status).toBe("succeeded");
      expect(steps.here!.executor).toBe("local");
      expect(steps.there!.status).toBe("failed");
      expect(steps.there!.executor).toBe("kubernetes");
      expect(steps.there!.error).toBe(
        "executor kubernetes is not configured on this server (no Kubernetes cluster is configured (not in a pod, no KUBECONFIG, no ~/.kube/config))",
      );
    } finally {
      await box.close();
    }
  });
});
