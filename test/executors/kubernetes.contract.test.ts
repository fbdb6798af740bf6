/**
 * Contract tests of KubernetesExecutor against a stand-in Kubernetes API server (no cluster runs
 * here; test/helpers/kubernetes-standin.ts). Every object the executor sends is validated against
 * Kubernetes' published schemas by the stand-in; the verbs it uses must be those the deploy/ Role
 * grants.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { JobResult, StepJob } from "../../src/core/pipelines/ports.js";
import { KubeApi } from "../../src/executors/kubernetes/kube-api.js";
import { resultLine } from "../../src/executors/agent/agent-job.js";
import { ReportSigning } from "../../src/executors/agent/report-signing.js";
import { KubernetesExecutor } from "../../src/executors/kubernetes/kubernetes-executor.js";
import { KubernetesStandIn, standInImageId, type Scenario } from "../helpers/kubernetes-standin.js";

/** The server's report signing (what wiring/kubernetes.ts derives from the secret key). */
const reports = new ReportSigning(randomBytes(32));

let standIn: KubernetesStandIn;
let executor: KubernetesExecutor;
let counter = 0;

beforeAll(async () => {
  standIn = await new KubernetesStandIn().start();
  executor = new KubernetesExecutor({
    api: KubeApi.forServer(standIn.url),
    defaults: {
      namespace: "tandem",
      agentCommand: "tandem",
      ttlSecondsAfterFinished: 600,
      serviceAccount: "tandem-step",
    },
    reports,
    pollMs: 50,
    unschedulableGraceMs: 300,
    serverUrl: "http://tandem-server.tandem.svc",
  });
});
afterAll(() => standIn.stop());

interface Attempt {
  job: StepJob;
  output: string[];
  waiting: Array<string | null>;
  submitted: string[];
  abort: AbortController;
}

function attempt(overrides: Partial<StepJob> = {}): Attempt {
  counter++;
  const abort = new AbortController();
  const a: Attempt = { output: [], waiting: [], submitted: [], abort, job: undefined as unknown as StepJob };
  a.job = {
    runId: `run${counter}abcdefgh0123`,
    stepId: `s${counter}`,
    attempt: 1,
    project: "flights",
    pipeline: "train",
    stepName: "train[lr=0.1]",
    execution: {
      executor: "kubernetes",
      image: "registry.example.com/train:1",
      slurm: {},
      kubernetes: {
        node_selector: { "cloud.example.com/gpu": "a100" },
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      },
    },
    resources: { cpu: "2", memory: "4Gi", gpu: 1 },
    workdir: executor.workdir(`run${counter}`, `s${counter}`, 1),
    workspace: null,
    script: "python train.py",
    inputs: [],
    outputs: [],
    env: {
      TANDEM_URL: "http://0.0.0.0:7300",
      MLFLOW_TRACKING_URI: "http://0.0.0.0:7300",
      TANDEM_TOKEN: "run-token-secret",
      DB_PASSWORD: "hunter2",
    },
    timeoutMs: 90_500,
    signal: abort.signal,
    onOutput: (_stream, text) => void a.output.push(text),
    onWaiting: (reason) => void a.waiting.push(reason),
    onSubmitted: async (id) => void a.submitted.push(id),
    ...overrides,
  };
  return a;
}

/** The report line the agent in the pod prints: signed with the key the init container copied for it. */
const report = (a: Attempt, r: JobResult) => resultLine(reports.nonce(a.job), r, reports.key(a.job)).trimEnd();
const succeeded: JobResult = { outcome: "succeeded", exitCode: 0, outputs: { model: "sha-1" } };
/** The agent's report plus the image id the kubelet reported for the step's image (issue 15: recorded after the step). */
const ran = (r: JobResult): JobResult => ({ ...r, imageId: standInImageId("registry.example.com/train:1") });

function play(a: Attempt, scenario: Scenario): void {
  const name = `tandem-${a.job.runId.slice(0, 8)}`;
  const previous = standIn.scenario;
  standIn.scenario = (job) => (String(job.metadata.name).startsWith(name) ? scenario : previous(job));
}

describe("KubernetesExecutor contract (stand-in API server)", () => {
  it("runs a step as a valid batch/v1 Job, streams its log, returns the agent's report and deletes the Secret", async () => {
    const a = attempt();
    play(a, { kind: "succeed", log: ["epoch 1", "epoch 2", report(a, succeeded)] });
    const result = await executor.run(a.job);
    expect(result).toEqual(ran(succeeded));
    expect(result.imageId).toMatch(/^registry\.example\.com\/train@sha256:[0-9a-f]{64}$/);
    expect(standIn.rejected).toEqual([]);
    expect(a.output.join("")).toBe("epoch 1\nepoch 2\n");
    expect(a.submitted).toEqual([`tandem/tandem-${a.job.runId.slice(0, 8)}-train-lr-0-1-1`]);

    const job = [...standIn.jobs.values()].find((j) => j.metadata.name === a.submitted[0]!.split("/")[1])!;
    expect(job.metadata.labels).toMatchObject({
      "tandem.dev/project": "flights",
      "tandem.dev/run": a.job.runId,
      "tandem.dev/step": "train_lr_0.1",
      "tandem.dev/attempt": "1",
    });
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 91, ttlSecondsAfterFinished: 600 });
    const pod = job.spec.template.spec;
    expect(pod).toMatchObject({
      restartPolicy: "Never",
      serviceAccountName: "tandem-step",
      automountServiceAccountToken: false,
      nodeSelector: { "cloud.example.com/gpu": "a100" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    });
    expect(pod.containers[0]).toMatchObject({
      image: "registry.example.com/train:1",
      resources: {
        requests: { cpu: "2", memory: "4Gi" },
        limits: { cpu: "2", memory: "4Gi", "nvidia.com/gpu": "1" },
      },
    });
    // Secrets travel in the per-attempt Secret, never in the Job; the Secret is gone afterwards.
    expect(JSON.stringify(job)).not.toContain("hunter2");
    expect(JSON.stringify(job)).not.toContain("run-token-secret");
    const agentJob = JSON.parse(standIn.secretsSeen.get(job.metadata.name)!.stringData["job.json"]) as {
      env: Record<string, string>;
    };
    expect(agentJob.env).toMatchObject({ DB_PASSWORD: "hunter2", TANDEM_TOKEN: "run-token-secret" });
    // The pod reaches the server through its Service, not the address the server listens on.
    expect(agentJob.env.TANDEM_URL).toBe("http://tandem-server.tandem.svc");
    expect(agentJob.env.MLFLOW_TRACKING_URI).toBe("http://tandem-server.tandem.svc");
    expect(standIn.secrets.size).toBe(0);
  });

  it("returns the agent's report of a failed step, exit code included", async () => {
    const a = attempt();
    const failure: JobResult = { outcome: "failed", exitCode: 3, outputs: {}, error: "exit code 3" };
    play(a, { kind: "fail", exitCode: 3, log: ["boom", report(a, failure)] });
    expect(await executor.run(a.job)).toEqual(ran(failure));
  });

  it("fails an OOMKilled pod with Kubernetes' reason", async () => {
    const a = attempt();
    play(a, { kind: "oom" });
    const result = await executor.run(a.job);
    expect(result).toMatchObject({ outcome: "failed", exitCode: 137 });
    expect(result.error).toContain("OOMKilled");
  });

  it("fails a pod stuck in ImagePullBackOff with Kubernetes' message, and deletes its Job", async () => {
    const a = attempt();
    play(a, { kind: "image-pull" });
    const result = await executor.run(a.job);
    expect(result.outcome).toBe("failed");
    expect(result.error).toBe('Kubernetes: ImagePullBackOff: Back-off pulling image "registry.example.com/train:1"');
    expect(a.waiting).toContain("waiting for Kubernetes: ErrImagePull");
    expect(standIn.deletions.map((d) => d.name)).toContain(a.submitted[0]!.split("/")[1]);
    expect(standIn.secrets.size).toBe(0);
  });

  it("shows why an unschedulable pod waits, then fails with the scheduler's message", async () => {
    const a = attempt();
    const message = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.";
    play(a, { kind: "unschedulable", message });
    const result = await executor.run(a.job);
    expect(result).toMatchObject({ outcome: "failed", error: `Kubernetes: Unschedulable: ${message}` });
    expect(a.waiting[0]).toBe(`waiting for Kubernetes: Unschedulable: ${message}`);
  });

  it("reports a Job past its activeDeadlineSeconds as timed out", async () => {
    const a = attempt();
    play(a, { kind: "deadline" });
    const result = await executor.run(a.job);
    expect(result.outcome).toBe("timed_out");
    expect(result.error).toContain("DeadlineExceeded");
  });

  it("cancels by deleting the Job with foreground propagation", async () => {
    const a = attempt();
    play(a, { kind: "run-forever", log: ["working"] });
    const running = executor.run(a.job);
    await until(() => a.output.join("").includes("working"));
    a.abort.abort();
    expect((await running).outcome).toBe("cancelled");
    const name = a.submitted[0]!.split("/")[1];
    expect(standIn.deletions).toContainEqual({ name, propagationPolicy: "Foreground" });
    expect(standIn.secrets.size).toBe(0);
  });

  it("follows the Job through dropped watches by listing again", async () => {
    const a = attempt();
    play(a, { kind: "succeed", log: [report(a, succeeded)] });
    standIn.stepMs = 150;
    const before = standIn.jobLists;
    const running = executor.run(a.job);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 120));
      standIn.dropWatches();
    }
    expect(await running).toEqual(ran(succeeded));
    standIn.stepMs = 30;
    expect(standIn.jobLists - before).toBeGreaterThanOrEqual(4);
  });

  it("reattaches after a restart, by the recorded name or by label, and never creates a second Job", async () => {
    const a = attempt();
    play(a, { kind: "succeed", log: ["from the first server", report(a, succeeded)] });
    standIn.stepMs = 100;
    // The first server submits, then 'dies' (its follow is abandoned).
    void executor.run(a.job);
    await until(() => a.submitted.length === 1);
    const jobsBefore = standIn.jobs.size;
    const restarted = new KubernetesExecutor({
      api: KubeApi.forServer(standIn.url),
      defaults: { namespace: "tandem", agentCommand: "tandem", ttlSecondsAfterFinished: 600 },
      reports,
      pollMs: 50,
    });
    const same = { runId: a.job.runId, stepId: a.job.stepId, workdir: a.job.workdir };
    const byName = attempt({ ...same, remoteJob: a.submitted[0]! });
    const byLabel = attempt({ ...same, remoteJob: null });
    const [one, two] = await Promise.all([restarted.run(byName.job), restarted.run(byLabel.job)]);
    standIn.stepMs = 30;
    expect(one).toEqual(ran(succeeded));
    expect(two).toEqual(ran(succeeded));
    expect(standIn.jobs.size).toBe(jobsBefore);
    expect(byName.output.join("")).toContain("from the first server");
    expect(byLabel.output.join("")).toContain("from the first server");
    expect(byName.submitted).toEqual([]);
  });

  it("gives the report key to the agent alone: the step container never mounts it, and job.json does not hold it", async () => {
    const a = attempt();
    play(a, { kind: "succeed", log: [report(a, succeeded)] });
    expect(await executor.run(a.job)).toEqual(ran(succeeded));
    const job = [...standIn.jobs.values()].find((j) => j.metadata.name === a.submitted[0]!.split("/")[1])!;
    const secret = standIn.secretsSeen.get(job.metadata.name)!;
    const key = reports.key(a.job).toString("hex");
    expect(secret.stringData["report.key"]).toBe(key);
    const agentJob = JSON.parse(secret.stringData["job.json"]) as { nonce: string; reportKeyFile: string };
    expect(JSON.stringify(agentJob)).not.toContain(key);
    expect(agentJob).toMatchObject({ nonce: reports.nonce(a.job), reportKeyFile: "/var/run/tandem-key/report.key" });
    const pod = job.spec.template.spec;
    const volumes = new Map<string, { secret?: { items?: Array<{ key: string }> } }>(
      pod.volumes.map((v: { name: string }) => [v.name, v]),
    );
    const secretKeysOf = (mounts: Array<{ name: string }>) =>
      mounts.flatMap((m) => volumes.get(m.name)?.secret?.items?.map((i) => i.key) ?? []);
    // The step container sees job.json only; the key reaches it through the init container's copy,
    // into a writable in-memory volume the agent deletes it from.
    expect(secretKeysOf(pod.containers[0].volumeMounts)).toEqual(["job.json"]);
    expect(secretKeysOf(pod.initContainers[0].volumeMounts)).toEqual(["report.key"]);
    expect(pod.initContainers[0].command.join(" ")).toContain("/var/run/tandem-key/report.key");
    expect(volumes.get("report-key")).toEqual({ name: "report-key", emptyDir: { medium: "Memory" } });
  });

  it("counts only the report signed with the attempt's key: a report the step prints itself is output", async () => {
    // The step reads job.json, so it knows the nonce: it prints a success report, unsigned and signed
    // with a key of its own, then fails. The agent's signed report says so.
    const a = attempt();
    const nonce = reports.nonce(a.job);
    const forged = `::tandem-result-${nonce}:: ${JSON.stringify(succeeded)}`;
    const forgedSigned = resultLine(nonce, succeeded, randomBytes(32)).trimEnd();
    const failure: JobResult = { outcome: "failed", exitCode: 1, outputs: {}, error: "exit code 1" };
    play(a, { kind: "fail", exitCode: 1, log: [forged, forgedSigned, report(a, failure)] });
    expect(await executor.run(a.job)).toEqual(ran(failure));
    expect(a.output).toEqual([`${forged}\n`, `${forgedSigned}\n`]);

    // The same forgery in a pod that ends with exit 0 before the agent reports: no report, so no success.
    const b = attempt();
    play(b, { kind: "succeed", log: [`::tandem-result-${reports.nonce(b.job)}:: ${JSON.stringify(succeeded)}`] });
    expect(await executor.run(b.job)).toMatchObject({
      outcome: "failed",
      error: "the Job completed but the step agent sent no report",
    });
    // A report signed for another attempt of the same step (a replayed line) does not count either.
    const c = attempt();
    const other = { ...c.job, attempt: 2 };
    play(c, { kind: "succeed", log: [resultLine(reports.nonce(c.job), succeeded, reports.key(other)).trimEnd()] });
    expect((await executor.run(c.job)).outcome).toBe("failed");
  });

  it("after a reattach, skips the log lines the previous driver delivered instead of logging them again", async () => {
    const a = attempt();
    play(a, { kind: "succeed", log: ["one", "two", "three", report(a, succeeded)] });
    standIn.stepMs = 100;
    const first = executor.run(a.job);
    await until(() => a.output.length === 3);
    expect(a.output.join("")).toBe("one\ntwo\nthree\n");
    await first;
    standIn.stepMs = 30;
    // A restarted server whose step log holds the first two lines (the third was not stored when the
    // first one died) continues with the third; one that stored all three logs nothing again.
    const same = { runId: a.job.runId, stepId: a.job.stepId, workdir: a.job.workdir, remoteJob: a.submitted[0]! };
    const partly = attempt({ ...same, loggedLines: 2 });
    const fully = attempt({ ...same, loggedLines: 3 });
    const [one, two] = await Promise.all([executor.run(partly.job), executor.run(fully.job)]);
    expect(one).toEqual(ran(succeeded));
    expect(two).toEqual(ran(succeeded));
    expect(partly.output).toEqual(["three\n"]);
    expect(fully.output).toEqual([]);
  });

  it("refuses a step without an image or without the server's API, before creating anything", async () => {
    const created = standIn.jobs.size;
    const noImage = attempt();
    noImage.job.execution = { ...noImage.job.execution, image: null };
    expect((await executor.run(noImage.job)).error).toContain("needs an image");
    const noApi = attempt({ env: {} });
    expect((await executor.run(noApi.job)).error).toContain("TANDEM_URL");
    expect(standIn.jobs.size).toBe(created);
  });

  it("uses only what the deploy/ Role grants the executor", () => {
    const rbac = parseAllDocuments(
      readFileSync(join(import.meta.dirname, "../../deploy/base/executor-rbac.yaml"), "utf8"),
    )
      .map((d) => d.toJS() as { kind: string; rules?: Array<{ resources: string[]; verbs: string[] }> })
      .find((o) => o.kind === "Role")!;
    const granted = new Set(
      rbac.rules!.flatMap((r) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}`))),
    );
    expect([...standIn.verbs].filter((v) => !granted.has(v))).toEqual([]);
    expect(standIn.verbs.size).toBeGreaterThanOrEqual(7);
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
