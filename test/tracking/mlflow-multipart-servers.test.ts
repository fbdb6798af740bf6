/**
 * MLflow multipart uploads behind several servers (issue 16): open uploads live in the metadata store
 * and part URLs are signed with a key derived from the deployment's shared secret key, so `mpu/create`
 * on one server and the part PUTs and `mpu/complete` on another work, and a part URL still works once.
 * - Two MultipartUploads on two connections to one store (SQLite and Postgres), as two servers' apps.
 * - Two real `tandem server` processes on one Postgres, over HTTP as MLflow's client drives them.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { MultipartUploads, multipartUrlKey } from "../../src/core/tracking/multipart.js";
import { FsArtifactStore } from "../../src/stores/artifacts/fs-artifact-store.js";
import { SqlMultipartUploadStore } from "../../src/stores/metadata/multipart-store.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";
import { freshDatabase, freshPostgresDatabase, postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import {
  adminTokenOf,
  api,
  killHard,
  newCluster,
  startServerProcess,
  type ServerProcess,
} from "../scale/server-processes.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

for (const kind of STORE_KINDS) {
  describe.skipIf(kind === "postgres" && !postgresAvailable())(
    `multipart upload on two app instances [${kind}]`,
    () => {
      it("create on A, parts and complete on B; each URL once across both; another deployment's key is refused", async () => {
        const db = await freshDatabase(kind);
        const root = mkdtempSync(join(tmpdir(), "mlflow-mpu-two-"));
        const sqlA = await SqlMetadataStore.create({ database: db.database, migrate: false });
        const sqlB = await SqlMetadataStore.create({ database: db.database, migrate: false });
        try {
          const artifacts = await FsArtifactStore.create({ root });
          const written: Array<{ path: string; sha256: string }> = [];
          const put = async (_actor: string, _project: string, path: string, data: Readable) => {
            const chunks: Buffer[] = [];
            for await (const c of data) chunks.push(c as Buffer);
            written.push({ path, sha256: sha(Buffer.concat(chunks)) });
          };
          const secret = randomBytes(32);
          const app = (sql: SqlMetadataStore, key = multipartUrlKey(secret)) =>
            new MultipartUploads({ store: new SqlMultipartUploadStore(sql), key, artifacts, put });
          const [a, b] = [app(sqlA), app(sqlB)];
          const other = app(sqlB, multipartUrlKey(randomBytes(32)));

          const path = "0/r/artifacts/big.bin";
          const tickets = await a.create({ actor: "ada", project: "p", path, numParts: 2 });
          await expect(other.claim(tickets[0]!.token)).rejects.toThrow(/signature does not match/);
          // The same URL claimed on both servers at once: exactly one wins.
          const raced = await Promise.allSettled([a.claim(tickets[0]!.token), b.claim(tickets[0]!.token)]);
          expect(raced.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
          const won = raced.find((r) => r.status === "fulfilled")!.value;
          const lost = raced.find((r) => r.status === "rejected")!.reason as Error;
          expect(lost.message).toMatch(/already sent; a part URL works once/);
          const chunks = [randomBytes(1000), randomBytes(777)];
          const etag1 = await b.putPart(won, chunks[0]!);
          const etag2 = await b.putPart(await b.claim(tickets[1]!.token), chunks[1]!);
          await expect(a.claim(tickets[1]!.token)).rejects.toThrow(/works once/);
          expect(await a.inFlightBlobs()).toEqual(new Set([etag1, etag2]));

          const parts = [
            { partNumber: 1, etag: etag1 },
            { partNumber: 2, etag: etag2 },
          ];
          await b.complete({ actor: "ada", project: "p", path, uploadId: tickets[0]!.uploadId, parts });
          expect(written).toEqual([{ path, sha256: sha(Buffer.concat(chunks)) }]);
          await expect(
            a.complete({ actor: "ada", project: "p", path, uploadId: tickets[0]!.uploadId, parts }),
          ).rejects.toThrow(/no multipart upload/);
          expect((await a.inFlightBlobs()).size).toBe(0);
        } finally {
          await sqlA.close();
          await sqlB.close();
          await db.cleanup();
          rmSync(root, { recursive: true, force: true });
        }
      });
    },
  );
}

describe.skipIf(!postgresAvailable())("multipart upload across two tandem server processes on one Postgres", () => {
  const servers: ServerProcess[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const s of servers) await killHard(s);
    for (const c of cleanups.reverse()) await c();
  });

  it("mpu/create on server A; parts PUT to and mpu/complete on server B; the artifact reads back on A", async () => {
    const db = await freshPostgresDatabase();
    cleanups.push(db.cleanup);
    const cluster = newCluster((db.database as { url: string }).url, { TANDEM_LOG_LEVEL: "error" });
    cleanups.push(() => rmSync(cluster.root, { recursive: true, force: true }));
    const a = startServerProcess(cluster, "a");
    servers.push(a);
    const urlA = await a.url;
    const b = startServerProcess(cluster, "b");
    servers.push(b);
    const urlB = await b.url;
    const token = adminTokenOf(cluster, "a");

    const run = await api<Json>(urlA, token, "POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0" });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    const dir = (run.body.run.info.artifact_uri as string).replace("mlflow-artifacts:/", "");
    const MPU = "/api/2.0/mlflow-artifacts/mpu";
    const created = await api<Json>(urlA, token, "POST", `${MPU}/create/${dir}/big`, {
      path: "/home/ada/data.bin",
      num_parts: 2,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const halves = [bytes.subarray(0, 2 * 1024 * 1024), bytes.subarray(2 * 1024 * 1024)];
    const parts = [];
    for (const [i, c] of (created.body.credentials as Json[]).entries()) {
      // Behind a load balancer the URL A handed out reaches B: send it to B's address.
      const onB = (c.url as string).replace(urlA, urlB);
      expect(onB.startsWith(urlB)).toBe(true);
      const res = await fetch(onB, { method: "PUT", body: halves[i] });
      expect(res.status, await res.clone().text()).toBe(200);
      parts.push({ part_number: c.part_number, etag: res.headers.get("etag") });
      const again = await fetch(c.url as string, { method: "PUT", body: halves[i] });
      expect([again.status, ((await again.json()) as Json).message]).toEqual([
        401,
        expect.stringMatching(/already sent; a part URL works once/),
      ]);
    }
    const done = await api<Json>(urlB, token, "POST", `${MPU}/complete/${dir}/big`, {
      path: "/home/ada/data.bin",
      upload_id: created.body.upload_id,
      parts,
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const back = await fetch(`${urlA}/api/2.0/mlflow-artifacts/artifacts/${dir}/big/data.bin`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(back.status).toBe(200);
    expect(sha(Buffer.from(await back.arrayBuffer()))).toBe(sha(bytes));
  });
});
