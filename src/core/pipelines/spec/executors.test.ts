import { describe, expect, it } from "vitest";
import { checkSpec } from "./load.js";
import { formatIssue } from "./positions.js";
import { stepExecution } from "./executors.js";
import { tandemJsonSchema } from "./schema.js";

const errorsOf = (src: string) => checkSpec(src, "tandem.yaml").issues.map(formatIssue);

const SPEC = `pipelines:
  train:
    executor: slurm
    image: python@sha256:${"a".repeat(64)}
    slurm: { partition: gpu, account: ml, extra: ["--constraint=a100"] }
    kubernetes: { namespace: ml }
    steps:
      fit:
        run: python3 fit.py
        slurm: { partition: debug }
        resources: { cpu: 2, memory: 4Gi, gpu: 1 }
        timeout: 2h
      serve:
        run: echo hi
        executor: kubernetes
        image: nginx:1.27
        kubernetes:
          service_account: runner
          node_selector: { pool: gpu }
          tolerations: [{ key: gpu, operator: Exists, effect: NoSchedule }]
`;

describe("executor fields in tandem.yaml", () => {
  it("are accepted on a pipeline and on a step", () => {
    expect(errorsOf(SPEC)).toEqual([]);
  });

  it("resolve step over pipeline, field by field for slurm and kubernetes", () => {
    const { spec } = checkSpec(SPEC, "tandem.yaml");
    const p = spec!.pipelines!.train!;
    expect(stepExecution(p.steps.fit!, p)).toEqual({
      executor: "slurm",
      image: `python@sha256:${"a".repeat(64)}`,
      slurm: { partition: "debug", account: "ml", extra: ["--constraint=a100"] },
      kubernetes: { namespace: "ml" },
    });
    const serve = stepExecution(p.steps.serve!, p);
    expect(serve.executor).toBe("kubernetes");
    expect(serve.image).toBe("nginx:1.27");
    expect(serve.kubernetes).toEqual({
      namespace: "ml",
      service_account: "runner",
      node_selector: { pool: "gpu" },
      tolerations: [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }],
    });
  });

  it("keep resources.image as the old spelling of image (a step's image: wins)", () => {
    expect(stepExecution({ resources: { image: "old:1" } }).image).toBe("old:1");
    expect(stepExecution({ image: "new:2", resources: { image: "old:1" } }).image).toBe("new:2");
    expect(stepExecution({ resources: { image: "old:1" } }, { image: "pipe:3" }).image).toBe("old:1");
    expect(stepExecution({}, {}).executor).toBeNull();
  });

  it("refuse unknown executors, bad sbatch flags and bad resources, naming line and field", () => {
    const bad = SPEC.replace("executor: slurm", "executor: lsf")
      .replace('"--constraint=a100"', '"constraint=a100"')
      .replace("memory: 4Gi", "memory: lots")
      .replace("service_account: runner", "serviceAccount: runner");
    expect(errorsOf(bad)).toEqual([
      expect.stringMatching(/^tandem\.yaml:3:15: pipelines\.train\.executor: .*"local".*"slurm".*"kubernetes"/),
      expect.stringMatching(
        /^tandem\.yaml:5:51: pipelines\.train\.slurm\.extra\[0\]: an extra sbatch flag starts with "-"/,
      ),
      expect.stringMatching(
        /^tandem\.yaml:11:\d+: pipelines\.train\.steps\.fit\.resources\.memory: expected a memory size/,
      ),
      expect.stringMatching(
        /^tandem\.yaml:18:11: pipelines\.train\.steps\.serve\.kubernetes\.serviceAccount: unknown key "serviceAccount"$/,
      ),
    ]);
  });

  it("appear in the JSON Schema for editors", () => {
    const schema = JSON.stringify(tandemJsonSchema());
    for (const field of ['"executor"', '"image"', '"slurm"', '"kubernetes"', '"partition"', '"service_account"'])
      expect(schema).toContain(field);
    const pipeline = (
      tandemJsonSchema() as { properties: { pipelines: { additionalProperties: { properties: object } } } }
    ).properties.pipelines.additionalProperties.properties;
    expect(Object.keys(pipeline)).toEqual(expect.arrayContaining(["executor", "image", "slurm", "kubernetes"]));
  });
});
