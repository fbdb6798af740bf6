/**
 * Migrations 0002, 0110, 0410 and 0810 upgrade a store the previous release made, on SQLite and
 * Postgres: evaluations (of models and of prompts) become `manual` unless a tandem/evaluate or
 * tandem/eval step made them; versions a pipeline registered
 * get the person behind the run as author (`via: system`); runs get `triggered_by`; the policies in
 * force become the newest spec's, as the previous release read them.
 */
import { expect, inject, it } from "vitest";
import { migrateToLatest } from "../../src/stores/metadata/migrator.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";
import { SqlRegistryStore } from "../../src/stores/metadata/registry-store.js";
import { SqlPipelineStore } from "../../src/stores/metadata/pipelines-store.js";
import { SqlPromptStore } from "../../src/stores/metadata/prompt-store.js";
import type { Kysely } from "kysely";
import { emptyDatabase } from "../helpers/stores.js";

const NEW = new Set([
  "0002_user_identities",
  "0110_run_triggered_by",
  "0410_registry_governance",
  "0810_prompt_evaluation_provenance",
]);

const OLD_SPEC = `project: p
pipelines:
  train:
    steps:
      s:
        run: echo
policies:
  release:
    require:
      - approvals: { role: approver }
`;

/** What the previous release wrote: a spec with policies, runs by a person and by triggers, evaluations, versions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the old schema, not the current one
async function writeOldRows(db: Kysely<any>): Promise<void> {
  const at = 1_700_000_000_000;
  await db
    .insertInto("pipeline_specs")
    .values({
      project: "p",
      version: 1,
      digest: "d",
      source: OLD_SPEC,
      file: "tandem.yaml",
      workspace: null,
      created_at: at,
      created_by: "carol",
    })
    .execute();
  const run = (id: string, createdBy: string, trigger: object) => ({
    id,
    project: "p",
    pipeline: "train",
    spec_version: 1,
    status: "succeeded",
    params: "{}",
    trigger: JSON.stringify(trigger),
    no_cache: 0,
    concurrency: 1,
    created_at: at,
    created_by: createdBy,
    cancel_requested: 0,
  });
  await db
    .insertInto("pipeline_runs")
    .values([
      run("r-manual", "alice", { kind: "manual" }),
      run("r-alert", "system", { kind: "alert", name: "drift" }),
      run("r-git", "system", { kind: "git", name: "main", commit: "abc" }),
    ])
    .execute();
  const step = (id: string, runId: string, name: string, command: string, tracking: string) => ({
    id,
    run_id: runId,
    seq: 0,
    name,
    step: name,
    needs: "[]",
    status: "succeeded",
    cached: 0,
    attempt: 1,
    command,
    inputs: "{}",
    outputs: "{}",
    metrics: "{}",
    tracking_run_id: tracking,
  });
  await db
    .insertInto("pipeline_step_runs")
    .values([
      step("s-eval", "r-alert", "evaluate", "uses: tandem/evaluate with: {}", "t-eval"),
      step("s-reg", "r-alert", "register", "uses: tandem/register with: {}", "t-reg"),
      step("s-mreg", "r-manual", "register", "uses: tandem/register with: {}", "t-mreg"),
      step("s-peval", "r-manual", "judge", "uses: tandem/eval with: {}", "t-peval"),
    ])
    .execute();
  const version = (n: number, author: string, sourceRun: string | null) => ({
    project: "p",
    model_name: "m",
    version: n,
    description: "",
    intended_use: "",
    artifact_format: "onnx",
    artifact_storage: "blob",
    artifact_sha256: "0".repeat(64),
    artifact_size: 1,
    artifact_file: "model.onnx",
    signature: "{}",
    source_run_id: sourceRun,
    author,
    tags: "{}",
    stage: "None",
    lineage: JSON.stringify({ pipelineRunId: null, datasetVersions: [], gitCommit: null, envDigest: null }),
    created_at: at,
    updated_at: at,
  });
  await db
    .insertInto("registry_versions")
    .values([version(1, "system", "t-reg"), version(2, "alice", "t-mreg"), version(3, "bob", null)])
    .execute();
  const evaluation = (id: string, runId: string | null) => ({
    id,
    project: "p",
    model_name: "m",
    version: 1,
    dataset: "d@1",
    metrics: '{"auc":0.9}',
    fairness: "{}",
    run_id: runId,
    created_by: "system",
    created_at: at,
  });
  await db
    .insertInto("registry_evaluations")
    .values([evaluation("e-step", "t-eval"), evaluation("e-hand", null)])
    .execute();
  const promptEvaluation = (id: string, runId: string | null) => ({
    id,
    project: "p",
    name: "qa",
    version: 1,
    run_id: runId,
    dataset: "cases@1",
    metrics: '{"exact.mean":1}',
    created_by: "alice",
    created_at: at,
  });
  await db
    .insertInto("prompt_evaluations")
    .values([promptEvaluation("pe-step", "t-peval"), promptEvaluation("pe-hand", "t-mreg")])
    .execute();
  await db
    .insertInto("registry_decisions")
    .values({
      id: "d1",
      project: "p",
      model_name: "m",
      version: 1,
      request_id: null,
      target_kind: "alias",
      target_name: "champion",
      verdict: "pass",
      checks: "[]",
      evaluated_by: "alice",
      at,
    })
    .execute();
}

for (const kind of ["sqlite", "postgres"] as const) {
  it.skipIf(kind === "postgres" && !inject("postgresAdminUrl"))(
    `upgrades a store the previous release made [${kind}]`,
    async () => {
      const { database, drop } = await emptyDatabase(kind);
      const store = await SqlMetadataStore.create({ database, migrate: false });
      try {
        const db = store.db as unknown as Kysely<unknown>;
        await migrateToLatest(db, store.dialect, (name) => !NEW.has(name));
        await writeOldRows(store.db as never);
        await migrateToLatest(db, store.dialect);

        const registry = new SqlRegistryStore(store);
        const evaluations = await registry.listEvaluations("p", "m", 1);
        const byId = Object.fromEntries(evaluations.map((e) => [e.id, e]));
        expect(byId["e-step"]).toMatchObject({
          source: "pipeline",
          pipelineRunId: "r-alert",
          step: "evaluate",
          stepRunId: "s-eval",
        });
        expect(byId["e-hand"]).toMatchObject({ source: "manual", pipelineRunId: null });
        const prompts = Object.fromEntries(
          (await new SqlPromptStore(store).listEvaluations("p", "qa", 1)).map((e) => [e.id, e]),
        );
        expect(prompts["pe-step"]).toMatchObject({
          source: "pipeline",
          pipelineRunId: "r-manual",
          step: "judge",
          stepRunId: "s-peval",
        });
        // Posted through the API, though naming a step's run: manual.
        expect(prompts["pe-hand"]).toMatchObject({ source: "manual", pipelineRunId: null, step: null });

        const v = async (n: number) => (await registry.getVersion("p", "m", n))!;
        expect(await v(1)).toMatchObject({
          author: "carol",
          via: "system",
          authorNote: "carol applied the spec whose alert trigger started pipeline run r-alert",
        });
        expect(await v(2)).toMatchObject({
          author: "alice",
          via: "system",
          authorNote: "alice started pipeline run r-manual by hand",
        });
        expect(await v(3)).toMatchObject({ author: "bob", via: null, authorNote: "bob registered it" });

        const runs = new SqlPipelineStore(store);
        expect((await runs.getRun("r-manual"))!.triggeredBy).toBe("alice");
        expect((await runs.getRun("r-alert"))!.triggeredBy).toBe("carol");
        expect((await runs.getRun("r-git"))!.triggeredBy).toBeNull();

        expect(await registry.getPolicies("p")).toEqual({
          release: { accept_manual: false, require: [{ approvals: { role: "approver", count: 1 } }] },
        });
        expect((await registry.getDecision("d1"))!).toMatchObject({ action: "promote", scope: "", governing: [] });
      } finally {
        await store.close();
        await drop();
      }
    },
  );
}
