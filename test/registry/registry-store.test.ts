/**
 * The registry service over the SQL store on SQLite and Postgres: concurrent registrations get
 * distinct version numbers, concurrent alias requests leave one consistent alias and history,
 * rename/delete carry every table along, reverse lineage, tags, stages and MLflow's latest versions.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AuditLog } from "../../src/core/governance/audit.js";
import type { LineageRun, LineageSource } from "../../src/core/registry/ports.js";
import { RegistryService } from "../../src/core/registry/service.js";
import { FsArtifactStore } from "../../src/stores/artifacts/fs-artifact-store.js";
import { SqlAuditStore } from "../../src/stores/metadata/audit-store.js";
import { SqlRegistryStore } from "../../src/stores/metadata/registry-store.js";
import { tinyOnnx } from "../helpers/onnx.js";
import { describeStores } from "../helpers/stores.js";

/** Runs kept in memory: enough to stand for Tracking here. */
class MemoryRuns implements LineageSource {
  runs = new Map<string, LineageRun>();
  add(
    id: string,
    tags: Record<string, string>,
    parentRunId: string | null = null,
    metrics: Record<string, number> = {},
  ): void {
    this.runs.set(id, {
      id,
      name: id,
      status: "FINISHED",
      params: { lr: "0.1" },
      metrics,
      tags,
      parentRunId,
      startedAt: this.runs.size,
      endedAt: null,
    });
  }
  async getRun(_project: string, runId: string) {
    return this.runs.get(runId) ?? null;
  }
  async childRuns(_project: string, runId: string) {
    return [...this.runs.values()].filter((r) => r.parentRunId === runId);
  }
  async createRegistrationRun(_project: string, input: { name: string; tags: Record<string, string> }) {
    const id = `reg${this.runs.size}`;
    this.add(id, input.tags);
    return id;
  }
}

describeStores("registry service", (getStore) => {
  let registry: RegistryService;
  let dir: string;
  const runs = new MemoryRuns();
  const blob = async (weights: number[]) => {
    const info = await artifacts.putBlob(tinyOnnx({ features: ["a", "b"], weights }));
    return { kind: "blob" as const, sha256: info.sha256, fileName: "model.onnx" };
  };
  let artifacts: FsArtifactStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tandem-registry-"));
    artifacts = await FsArtifactStore.create({ root: dir });
    const store = getStore();
    const audit = new AuditLog(new SqlAuditStore(store), {
      location: "(not kept)",
      read: async () => null,
      compareAndSet: async () => true,
    });
    registry = new RegistryService({
      metadata: store,
      audit,
      store: new SqlRegistryStore(store),
      artifacts,
      lineage: runs,
    });
    runs.add("pipe", { "tandem.git_commit": "c0ffee" });
    runs.add("prep", { "tandem.dataset_versions": "flights@3, weather@1" }, "pipe");
    runs.add("train", { "tandem.env_digest": "sha256:env" }, "pipe", { roc_auc: 0.9 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("numbers concurrent registrations without gaps or duplicates", async () => {
    const made = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(async (i) =>
        registry.registerVersion({
          actor: "alice",
          project: "p",
          name: "m",
          artifact: await blob([i, 1]),
          runId: "train",
        }),
      ),
    );
    expect(made.map((r) => r.version.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const v = made[0]!.version;
    expect(v.lineage).toEqual({
      pipelineRunId: "pipe",
      datasetVersions: ["flights@3", "weather@1"],
      gitCommit: "c0ffee",
      envDigest: "sha256:env",
    });
  });

  it("keeps one consistent alias and history under concurrent requests", async () => {
    await Promise.all(
      [1, 2, 3, 4].map((n) => registry.setAlias({ actor: "alice", project: "p", ref: `m@${n}`, alias: "challenger" })),
    );
    const holder = (await registry.resolve("p", "m@challenger")).version;
    const history = await registry.aliasHistory("p", "m", "challenger");
    expect(history).toHaveLength(4);
    expect(history.at(-1)!.toVersion).toBe(holder);
    // Each move starts where the previous one ended: no lost update.
    for (let i = 1; i < history.length; i++) expect(history[i]!.fromVersion).toBe(history[i - 1]!.toVersion);
  });

  it("answers reverse lineage, tags, stages and MLflow's latest versions", async () => {
    expect((await registry.versionsTrainedOn("p", "weather@1")).map((v) => v.version).sort()).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    await registry.setVersionTag("alice", "p", "m", 2, "team", "ml");
    await expect(registry.deleteVersionTag("alice", "p", "m", 2, "nope")).rejects.toThrow(/has no tag nope/);
    const stage = (version: number, name: string, archiveExisting: boolean) =>
      registry.requestStage({ actor: "alice", project: "p", name: "m", version, stage: name, archiveExisting });
    await stage(2, "production", false);
    await stage(3, "Production", true);
    expect((await registry.getVersion("p", "m", 2)).stage).toBe("Archived");
    expect((await registry.latestVersions("p", "m", ["Production", "Staging"])).map((v) => v.version)).toEqual([3]);
    expect((await registry.getVersion("p", "m", 2)).tags).toEqual({ team: "ml" });
    await registry.setModelTag("alice", "p", "m", "domain", "flights");
    expect((await registry.searchModels("p", { tags: { domain: "flights" } })).total).toBe(1);
    expect((await registry.searchModels("p", { nameLike: "x%" })).total).toBe(0);
  });

  it("refuses to delete what an alias holds, and renames every table along", async () => {
    const holder = (await registry.resolve("p", "m@challenger")).version;
    await expect(registry.deleteVersion("alice", "p", "m", holder)).rejects.toThrow(/holds alias challenger/);
    await registry.deleteVersion("alice", "p", "m", 6 === holder ? 5 : 6);
    await registry.renameModel("alice", "p", "m", "m2");
    expect((await registry.resolve("p", "m2@challenger")).version).toBe(holder);
    expect(await registry.aliasHistory("p", "m2", "challenger")).toHaveLength(4);
    expect((await registry.versionsTrainedOn("p", "flights@3")).every((v) => v.modelName === "m2")).toBe(true);
    await expect(registry.resolve("p", "m@1")).rejects.toThrow(/does not exist/);
    await expect(registry.deleteModel("alice", "p", "m2")).rejects.toThrow(/still has aliases/);
    await registry.deleteAlias("alice", "p", "m2", "challenger", "member");
    await registry.deleteModel("alice", "p", "m2");
    expect((await registry.searchModels("p")).total).toBe(0);
  });

  it("registers a command-served directory and refuses what is not a model", async () => {
    const put = async (text: string) => (await artifacts.putBlob(text)).sha256;
    const entries = [
      { path: "MODEL.json", sha256: await put('{"command": ["python3", "serve.py"]}'), size: 36 },
      { path: "serve.py", sha256: await put("print('hi')\n"), size: 12 },
    ];
    const { version } = await registry.registerVersion({
      actor: "alice",
      project: "p",
      name: "cmd",
      artifact: { kind: "tree", entries },
      runId: null,
    });
    expect(version.artifact).toMatchObject({ format: "command", storage: "tree" });
    expect(version.sourceRunId).toMatch(/^reg/);
    const bad = [{ path: "MODEL.json", sha256: await put('{"cmd": 1}'), size: 10 }];
    await expect(
      registry.registerVersion({ actor: "alice", project: "p", name: "cmd", artifact: { kind: "tree", entries: bad } }),
    ).rejects.toThrow(/field "command"/);
    const text = await put("just text");
    await expect(
      registry.registerVersion({
        actor: "alice",
        project: "p",
        name: "cmd",
        artifact: { kind: "blob", sha256: text, fileName: "x.onnx" },
      }),
    ).rejects.toThrow(/x.onnx is not an ONNX model/);
    await expect(
      registry.registerVersion({
        actor: "alice",
        project: "p",
        name: "cmd",
        artifact: { kind: "blob", sha256: "0".repeat(64), fileName: "x.onnx" },
      }),
    ).rejects.toThrow(/not in the artifact store/);
  });
});
