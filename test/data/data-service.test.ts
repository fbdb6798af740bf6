/**
 * The Data service on real stores (SQLite and PostgreSQL, filesystem artifacts): versions, dedup,
 * references, tags, events, diff, validation, and bad input that leaves earlier versions intact.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { beforeAll, expect, it } from "vitest";
import type { ManifestEntry } from "../../src/core/artifacts/ports.js";
import { DataService } from "../../src/core/data/service.js";
import { ConflictError, InvalidInputError, NotFoundError } from "../../src/core/errors.js";
import { AuditLog } from "../../src/core/governance/audit.js";
import { FsArtifactStore } from "../../src/stores/artifacts/fs-artifact-store.js";
import { LocalBlobFiles } from "../../src/stores/artifacts/blob-files.js";
import { FileAuditHeadKeeper } from "../../src/stores/files/audit-head-file.js";
import { SqlAuditStore } from "../../src/stores/metadata/audit-store.js";
import { SqlDataStore } from "../../src/stores/metadata/data-store.js";
import { describeStores } from "../helpers/stores.js";

describeStores("data service", (getStore) => {
  let data: DataService;
  let audit: AuditLog;
  const project = `p${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-data-"));
    const artifacts = await FsArtifactStore.create({ root: join(dir, "artifacts") });
    audit = new AuditLog(new SqlAuditStore(getStore()), new FileAuditHeadKeeper(join(dir, "audit.head")));
    data = new DataService({
      metadata: getStore(),
      audit,
      store: new SqlDataStore(getStore()),
      artifacts,
      blobFiles: new LocalBlobFiles(artifacts, join(dir, "tmp")),
    });
  });

  async function put(path: string, text: string): Promise<ManifestEntry> {
    const blob = await data.putBlob(Readable.from([Buffer.from(text)]));
    return { path, sha256: blob.sha256, size: blob.size };
  }

  const csv = (rows: number, shift = 0) =>
    "id,city,price\n" +
    Array.from({ length: rows }, (_, i) => `${i},${["Oslo", "Lima", "Pune"][i % 3]},${(i % 17) + shift}.5`).join("\n") +
    "\n";

  it("refuses a version while a blob is missing, naming it", async () => {
    const sha = "ab".repeat(32);
    const error = await data
      .createVersion("alice", project, "sales", { kind: "file", entries: [{ path: "a.csv", sha256: sha, size: 1 }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).details).toEqual({ missing: [sha] });
    expect(await data.missingBlobs([sha])).toEqual([sha]);
  });

  it("numbers versions, profiles tabular files, and makes no version for identical content", async () => {
    const a = await put("sales.csv", csv(300));
    const readme = await put("README.md", "hello");
    const first = await data.createVersion("alice", project, "sales", { kind: "dir", entries: [a, readme] });
    expect(first.created).toBe(true);
    expect(first.version).toMatchObject({ version: 1, fileCount: 2, kind: "dir" });
    const again = await data.createVersion("bob", project, "sales", { kind: "dir", entries: [readme, a] });
    expect(again).toMatchObject({ created: false, version: { version: 1, createdBy: "alice" } });
    const profile = await data.profile(first.version);
    expect(Object.keys(profile!.files)).toEqual(["sales.csv"]);
    expect(profile!.files["sales.csv"]!.profile.columns.map((c) => [c.name, c.kind, c.type])).toEqual([
      ["id", "integer", "numeric"],
      ["city", "string", "categorical"],
      ["price", "float", "numeric"],
    ]);
    const second = await data.createVersion("alice", project, "sales", {
      kind: "dir",
      entries: [await put("sales.csv", csv(400, 30)), readme],
      message: "more",
    });
    expect(second.version).toMatchObject({ version: 2, message: "more" });
  });

  it("resolves N, latest, sha256 prefixes and tags; unknown ones are NotFound", async () => {
    const latest = await data.resolve(project, "sales@latest");
    expect(latest.version).toBe(2);
    expect((await data.resolve(project, "dataset://sales")).version).toBe(2);
    expect((await data.resolve(project, "sales@1")).version).toBe(1);
    expect((await data.resolve(project, `sales@sha256:${latest.manifestSha.slice(0, 10)}`)).version).toBe(2);
    await data.tag("alice", project, "sales@1", "golden");
    expect((await data.resolve(project, "sales@golden")).version).toBe(1);
    const moved = await data.tag("alice", project, "sales@2", "golden");
    expect(moved.previous).toBe(1);
    expect(moved.version.tags).toEqual(["golden"]);
    await expect(data.resolve(project, "sales@9")).rejects.toThrow(NotFoundError);
    await expect(data.resolve(project, "nope@1")).rejects.toThrow(/no dataset nope/);
    await expect(data.resolve(project, "sales@latest!")).rejects.toThrow(InvalidInputError);
    const resolved = await data.resolveDatasetVersion(project, "sales@1");
    expect(resolved.id).toBe(`sales@sha256:${resolved.manifestSha}`);
    expect(resolved.entries.map((e) => e.path)).toEqual(["README.md", "sales.csv"]);
  });

  it("feeds an ordered event per new version, and audits every change", async () => {
    const events = await data.eventsAfter(0, 100, project);
    expect(events.map((e) => [e.name, e.version])).toEqual([
      ["sales", 1],
      ["sales", 2],
    ]);
    expect(await data.eventsAfter(events[0]!.seq, 100, project)).toHaveLength(1);
    const actions = (await audit.list({ project, limit: 100 })).map((e) => e.action);
    expect(actions.filter((a) => a === "dataset.version.create")).toHaveLength(2);
    expect(actions.filter((a) => a === "dataset.tag")).toHaveLength(2);
  });

  it("diffs files, schema and moved statistics", async () => {
    const { diff } = await data.diff(project, "sales@1", "sales@2");
    expect(diff.files.changed.map((c) => c.path)).toEqual(["sales.csv"]);
    expect(diff.files.unchanged).toBe(1);
    const price = diff.stats.find((s) => s.column === "price")!;
    expect(price).toMatchObject({ rowsFrom: 300, rowsTo: 400, moved: true });
    expect(price.drift).toMatchObject({ test: "wasserstein", drifted: true });
  });

  it("validates against expectations and stores the report", async () => {
    const r = await data.validate("alice", project, "sales@2", {
      rows: { min: 100 },
      columns: {
        id: { unique: true, not_null: true },
        city: { allowed: ["Oslo", "Lima"] },
        price: { min: 0, max: 100 },
      },
      drift: { against: "previous" },
    });
    expect(r.ok).toBe(false);
    const failed = r.report.checks.filter((c) => !c.ok).map((c) => `${c.check}:${c.column ?? "-"}`);
    expect(failed).toContain("allowed:city");
    expect(failed).toContain("drift:price");
    expect(r.report.checks.find((c) => c.check === "unique")).toMatchObject({ ok: true, found: "0" });
    const stored = await data.listValidations(project, "sales", 2);
    expect(stored[0]).toMatchObject({ id: r.id, ok: false });
    await expect(data.validate("alice", project, "sales@2", { columns: { id: { bogus: 1 } } })).rejects.toThrow(
      /expectations: columns\.id/,
    );
  });

  it("counts duplicates exactly where the profile's distinct count is an estimate (CSV and JSON Lines)", async () => {
    // 1 500 distinct ids (beyond the profile's exact 1 024), 3 of them repeated, blanks left out.
    const ids = [...Array.from({ length: 1500 }, (_, i) => String(i)), "7", "8", "9", "", ""];
    // Two columns: the columnar reader leaves one-column CSV to the row-wise one.
    const text = "id,n\n" + ids.map((id) => `${id},1`).join("\n") + "\n";
    const jsonl = ids.map((id) => (id === "" ? "{}" : `{"id": ${id}}`)).join("\n") + "\n";
    for (const [name, entry] of [
      ["many-ids-csv", await put("ids.csv", text)],
      ["many-ids-jsonl", await put("ids.jsonl", jsonl)],
    ] as const) {
      // A project of its own: later tests count this project's datasets.
      await data.createVersion("alice", `${project}d`, name, { kind: "file", entries: [entry] });
      const r = await data.validate("alice", `${project}d`, `${name}@1`, { columns: { id: { unique: true } } });
      expect(
        r.report.checks.find((c) => c.check === "unique"),
        name,
      ).toMatchObject({ ok: false, found: "3" });
    }
  });

  it("a ragged CSV fails the add with file and row, and earlier versions stay intact", async () => {
    const bad = await put("sales.csv", "id,city,price\n1,Oslo,2\n2,Lima\n");
    const error = await data
      .createVersion("alice", project, "sales", { kind: "dir", entries: [bad] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(
      "sales.csv (row 2, line 3): ragged row: expected 3 fields as in the header, found 2",
    );
    expect((await data.resolve(project, "sales@latest")).version).toBe(2);
    expect((await data.listVersions(project, "sales")).map((v) => v.version)).toEqual([2, 1]);
    const notParquet = await put("t.parquet", "id,name\n1,first row\n2,second row\n");
    await expect(data.createVersion("alice", project, "pq", { kind: "file", entries: [notParquet] })).rejects.toThrow(
      "t.parquet: is not a Parquet file: it does not start with the magic bytes PAR1",
    );
    expect(await data.listDatasets(project)).toHaveLength(1);
  });
});
