/**
 * The pipelines store on SQLite and a real PostgreSQL: leases (one winner of a race, takeover of an
 * expired or dead owner's lease), event idempotency, cache upserts, logs in order, secrets.
 */
import { expect, it } from "vitest";
import { newId } from "../../src/core/ids.js";
import { planRun } from "../../src/core/pipelines/engine/plan.js";
import type { PipelineRun } from "../../src/core/pipelines/model.js";
import { SqlPipelineStore } from "../../src/stores/metadata/pipelines-store.js";
import { describeStores } from "../helpers/stores.js";

function run(overrides: Partial<PipelineRun> = {}): PipelineRun {
  return {
    id: newId(),
    project: "p",
    pipeline: "train",
    specVersion: 1,
    status: "running",
    params: { lr: 0.1 },
    trigger: { kind: "manual" },
    noCache: false,
    concurrency: 2,
    workspace: "/tmp/x",
    envDigest: null,
    code: null,
    createdAt: Date.now(),
    createdBy: "admin",
    triggeredBy: "admin",
    startedAt: null,
    finishedAt: null,
    error: null,
    cancelRequested: false,
    leaseOwner: "host:1:a",
    leaseExpiresAt: Date.now() + 60_000,
    trackingRunId: null,
    ...overrides,
  };
}

describeStores("pipelines store", (getStore) => {
  const store = () => new SqlPipelineStore(getStore());

  it("keeps spec versions read from a commit apart from the applied spec", async () => {
    const spec = (version: number, commit: string | null) => ({
      project: "specs",
      version,
      digest: `d${version}`,
      source: "pipelines: {}\n",
      file: "tandem.yaml",
      workspace: "/w",
      createdAt: Date.now(),
      createdBy: "admin",
      commit,
    });
    await getStore().transaction(async (tx) => {
      await store().insertSpec(spec(1, null), tx);
      await store().insertSpec(spec(2, "c".repeat(40)), tx);
    });
    expect((await store().latestSpec("specs"))!.version).toBe(1);
    expect((await store().latestSpec("specs", undefined, { withCommits: true }))!).toMatchObject({
      version: 2,
      commit: "c".repeat(40),
    });
    expect((await store().getSpec("specs", 1))!.commit).toBeNull();
  });

  it("stores a run with its planned steps (matrix fan-out) and reads them back", async () => {
    const r = run();
    const steps = planRun(r.id, {
      steps: {
        prep: { run: "true", outputs: { d: "dir" } },
        train: { run: "echo ${{ matrix.lr }} ${{ steps.prep.outputs.d }}", matrix: { lr: [0.1, 0.2] } },
        report: { run: "true", needs: ["train"] },
      },
    });
    await getStore().transaction((tx) => store().insertRun(r, steps, tx));
    const back = await store().getSteps(r.id);
    expect(back.map((s) => [s.name, s.needs])).toEqual([
      ["prep", []],
      ["train[lr=0.1]", ["prep"]],
      ["train[lr=0.2]", ["prep"]],
      ["report", ["train[lr=0.1]", "train[lr=0.2]"]],
    ]);
    expect((await store().getRun(r.id))!.params).toEqual({ lr: 0.1 });
    await store().updateStep(back[0]!.id, {
      status: "succeeded",
      outputs: { d: "ab".repeat(32) },
      metrics: { auc: 0.9 },
      cached: true,
    });
    const [prep] = await store().getSteps(r.id);
    expect(prep).toMatchObject({ status: "succeeded", cached: true, metrics: { auc: 0.9 } });
  });

  it("keeps a run's code and a step's references, key parts and environment; finds earlier keys of a step", async () => {
    const project = `p-${newId()}`;
    const code = { commit: "c".repeat(40), dirty: true, changed: ["steps/a.js"], checkout: null };
    const made: string[] = [];
    for (const [i, at] of [1000, 3000, 2000].entries()) {
      const r = run({ project, createdAt: at, code: i === 0 ? code : null });
      const steps = planRun(r.id, { steps: { check: { uses: "tandem/echo", with: { message: "hi" } } } });
      await getStore().transaction((tx) => store().insertRun(r, steps, tx));
      await store().updateStep(steps[0]!.id, {
        references: [{ field: "dataset", kind: "dataset", ref: "rows@latest", resolved: `rows@${i}`, digest: null }],
        cacheInfo: {
          parts: [{ name: "definition", digest: "d".repeat(64), value: "{}" }],
          decision: "miss",
          reason: null,
          source: null,
        },
        environment: { digest: "e", lockfiles: {}, interpreters: { node: "v20" }, image: null, imageId: "sha256:1" },
      });
      made.push(r.id);
    }
    expect((await store().getRun(made[0]!))!.code).toEqual(code);
    expect((await store().getRun(made[1]!))!.code).toBeNull();
    const [step] = await store().getSteps(made[0]!);
    expect(step!.references[0]!.resolved).toBe("rows@0");
    expect(step!.environment).toMatchObject({ interpreters: { node: "v20" }, imageId: "sha256:1" });
    const earlier = await store().earlierSteps({ project, pipeline: "train", name: "check", before: 3000, limit: 10 });
    expect(earlier.map((e) => [e.runId, e.runCreatedAt])).toEqual([
      [made[2], 2000],
      [made[0], 1000],
    ]);
    expect(earlier[0]!.step.cacheInfo!.decision).toBe("miss");
  });

  it("lets one of two racing owners take an expired lease, and a dead owner's at once", async () => {
    const r = run({ leaseOwner: "host:1:a", leaseExpiresAt: Date.now() - 1 });
    await getStore().transaction((tx) => store().insertRun(r, [], tx));
    const now = Date.now();
    const results = await Promise.all([
      store().claimRun(r.id, "host:2:b", now + 15_000, now),
      store().claimRun(r.id, "host:3:c", now + 15_000, now),
    ]);
    // The second conditional update sees a live lease held by the first.
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results[0] ? "host:2:b" : "host:3:c";
    expect(await store().renewRun(r.id, winner, now + 30_000)).toBe(true);
    expect(await store().renewRun(r.id, "host:9:z", now + 30_000)).toBe(false);
    expect(await store().claimRun(r.id, "host:4:d", now + 15_000, now)).toBe(false);
    expect(await store().claimRun(r.id, "host:4:d", now + 15_000, now, winner)).toBe(true);
    expect((await store().unfinishedRuns(100)).map((x) => x.id)).toContain(r.id);
  });

  it("records an event key once", async () => {
    const key = `data:train:flights@${newId()}`;
    expect(await store().recordTriggerEvent("p", key, null, Date.now())).toBe(true);
    expect(await store().recordTriggerEvent("p", key, null, Date.now())).toBe(false);
    await store().setTriggerState("p", "s", "1", 1);
    await store().setTriggerState("p", "s", "2", 2);
    expect(await store().getTriggerState("p", "s")).toBe("2");
  });

  it("upserts cache entries and appends logs in order", async () => {
    const key = newId();
    await store().putCache({ project: "p", key, outputs: { m: "a" }, metrics: {}, stepRunId: "s1", createdAt: 1 });
    await store().putCache({
      project: "p",
      key,
      outputs: { m: "b" },
      metrics: { x: 1 },
      stepRunId: "s2",
      createdAt: 2,
    });
    expect(await store().getCache("p", key)).toMatchObject({ outputs: { m: "b" }, metrics: { x: 1 }, stepRunId: "s2" });
    const runId = newId();
    await store().appendLogs(runId, [
      { stepId: "a", stream: "stdout", text: "one", at: 1 },
      { stepId: "b", stream: "stderr", text: "two", at: 2 },
      { stepId: "a", stream: "system", text: "three", at: 3 },
    ]);
    const all = await store().readLogs(runId, { limit: 10 });
    expect(all.map((l) => l.text)).toEqual(["one", "two", "three"]);
    expect(
      (await store().readLogs(runId, { limit: 10, stepId: "a", afterSeq: all[0]!.seq })).map((l) => l.text),
    ).toEqual(["three"]);
  });

  it("keeps sealed secrets per project", async () => {
    await getStore().transaction((tx) =>
      store().putSecret({ project: "p", name: "K", sealed: "xx", updatedAt: 1, updatedBy: "a" }, tx),
    );
    await getStore().transaction((tx) =>
      store().putSecret({ project: "p", name: "K", sealed: "yy", updatedAt: 2, updatedBy: "b" }, tx),
    );
    expect((await store().getSecret("p", "K"))!.sealed).toBe("yy");
    expect(await store().listSecrets("p")).toEqual([{ project: "p", name: "K", updatedAt: 2, updatedBy: "b" }]);
    expect(await getStore().transaction((tx) => store().deleteSecret("p", "K", tx))).toBe(true);
  });
});
