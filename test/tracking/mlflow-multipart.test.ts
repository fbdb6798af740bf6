/**
 * MLflow's proxied multipart upload over HTTP on SQLite and Postgres, as the client drives it
 * (mpu/create → PUT each part to its URL without a token → mpu/complete), and the attacks on part
 * URLs: reused, forged, moved to another part, after completion or abort, expired.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MultipartUploads } from "../../src/core/tracking/multipart.js";
import { FsArtifactStore } from "../../src/stores/artifacts/fs-artifact-store.js";
import { SqlMultipartUploadStore } from "../../src/stores/metadata/multipart-store.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";
import { freshSqliteDatabase, postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const MPU = "/api/2.0/mlflow-artifacts/mpu";
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** PUTs a part the way MLflow's client does: requests.put(url, data), no Authorization header. */
async function putPart(url: string, bytes: Uint8Array) {
  const res = await fetch(url, { method: "PUT", body: bytes });
  return { status: res.status, etag: res.headers.get("etag") ?? "", body: (await res.json()) as Json };
}

for (const kind of STORE_KINDS) {
  describe.skipIf(kind === "postgres" && !postgresAvailable())(`MLflow multipart upload [${kind}]`, () => {
    let s: TestServer;
    let dir: string;
    beforeAll(async () => {
      s = await startTestServer({ store: kind });
      const run = await s.api<Json>("POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0" });
      dir = (run.body.run.info.artifact_uri as string).replace("mlflow-artifacts:/", "");
    });
    afterAll(async () => s?.stop());

    const create = (numParts: number, file = "/home/ada/data.bin") =>
      s.api<Json>("POST", `${MPU}/create/${dir}/big`, { path: file, num_parts: numParts });

    it("joins parts into an artifact byte-identical to the file; each part URL works once", async () => {
      const bytes = randomBytes(5 * 1024 * 1024 + 123);
      const size = 2 * 1024 * 1024;
      const chunks = [0, 1, 2].map((i) => bytes.subarray(i * size, (i + 1) * size));
      const created = await create(3);
      expect(created.status, JSON.stringify(created.body)).toBe(200);
      const creds = created.body.credentials as Json[];
      expect(creds.map((c) => c.part_number)).toEqual([1, 2, 3]);
      expect(creds[0]!.url).toMatch(new RegExp(`^${s.url}${MPU}/parts/`));
      const parts = [];
      for (const [i, c] of creds.entries()) {
        const put = await putPart(c.url as string, chunks[i]!);
        expect(put.status, JSON.stringify(put.body)).toBe(200);
        expect(put.etag).toBe(`"${sha(chunks[i]!)}"`);
        parts.push({ part_number: c.part_number, etag: put.etag, url: c.url });
      }
      const reused = await putPart(creds[0]!.url as string, chunks[0]!);
      expect([reused.status, reused.body.error_code]).toEqual([401, "UNAUTHENTICATED"]);
      expect(reused.body.message).toMatch(/already sent; a part URL works once/);

      const done = await s.api<Json>("POST", `${MPU}/complete/${dir}/big`, {
        path: "/home/ada/data.bin",
        upload_id: created.body.upload_id,
        parts,
      });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      const back = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${dir}/big/data.bin`, {
        headers: { authorization: `Bearer ${s.adminToken}` },
      });
      const got = Buffer.from(await back.arrayBuffer());
      expect(got.length).toBe(bytes.length);
      expect(sha(got)).toBe(sha(bytes));
      const after = await putPart(creds[1]!.url as string, chunks[1]!);
      expect(after.status).toBe(401);
      const again = await s.api<Json>("POST", `${MPU}/complete/${dir}/big`, {
        path: "data.bin",
        upload_id: created.body.upload_id,
        parts,
      });
      expect([again.status, again.body.error_code]).toEqual([404, "RESOURCE_DOES_NOT_EXIST"]);
    });

    it("refuses forged part URLs and one part's URL used for another", async () => {
      const created = await create(2);
      const [one, two] = (created.body.credentials as Json[]).map((c) => c.url as string) as [string, string];
      const flip = (url: string) => url.slice(0, -1) + (url.endsWith("A") ? "B" : "A");
      const forged = await putPart(flip(one), Buffer.from("x"));
      expect([forged.status, forged.body.error_code]).toEqual([401, "UNAUTHENTICATED"]);
      expect(forged.body.message).toMatch(/signature does not match/);
      // Part 2's signature on part 1's number: the signature covers the part number.
      const moved = await putPart(two.replace(/\.2\.(\d{13})\./, ".1.$1."), Buffer.from("x"));
      expect(moved.status).toBe(401);
      const garbage = await putPart(`${s.url}${MPU}/parts/not-a-token`, Buffer.from("x"));
      expect(garbage.status).toBe(401);
      // A part URL is no bearer token elsewhere, and a bearer token does not open a part URL's upload.
      const listing = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts?path=${dir}`, {
        headers: { authorization: `Bearer ${one.split("/").pop()}` },
      });
      expect(listing.status).toBe(401);
      const incomplete = await putPart(one, Buffer.from("only part one"));
      expect(incomplete.status).toBe(200);
      const early = await s.api<Json>("POST", `${MPU}/complete/${dir}/big`, {
        path: "data.bin",
        upload_id: created.body.upload_id,
        parts: [{ part_number: 1, etag: incomplete.etag }],
      });
      expect([early.status, early.body.error_code]).toEqual([400, "INVALID_PARAMETER_VALUE"]);
      expect(early.body.message).toMatch(/part 2 of 2 .* was not uploaded/);
    });

    it("abort forgets the upload; bad paths and part counts are refused", async () => {
      const created = await create(1);
      const aborted = await s.api<Json>("POST", `${MPU}/abort/${dir}/big`, {
        path: "data.bin",
        upload_id: created.body.upload_id,
      });
      expect(aborted.status).toBe(200);
      const late = await putPart((created.body.credentials as Json[])[0]!.url as string, Buffer.from("x"));
      expect([late.status, late.body.message]).toEqual([401, expect.stringMatching(/completed, aborted or forgotten/)]);
      const escape = await s.api<Json>("POST", `${MPU}/create/${dir}/..%2F..%2F..%2F..`, { path: "x", num_parts: 1 });
      expect([escape.status, escape.body.error_code]).toEqual([400, "INVALID_PARAMETER_VALUE"]);
      const tooMany = await create(10_001);
      expect(tooMany.status).toBe(400);
      const viewerless = await s.api<Json>("POST", `${MPU}/create/${dir}/big`, { path: "x", num_parts: 1 }, null);
      expect(viewerless.status).toBe(401);
    });
  });
}

describe("multipart part URLs expire", () => {
  it("refuses a part URL after its hour, and accepts it before", async () => {
    const root = mkdtempSync(join(tmpdir(), "mlflow-mpu-"));
    const db = freshSqliteDatabase();
    const sql = await SqlMetadataStore.create({ database: db.database, migrate: false });
    try {
      let clock = 1_800_000_000_000;
      const written: string[] = [];
      const uploads = new MultipartUploads({
        store: new SqlMultipartUploadStore(sql),
        key: randomBytes(32),
        artifacts: await FsArtifactStore.create({ root }),
        put: async (_actor, _project, path, data: Readable) => {
          const chunks: Buffer[] = [];
          for await (const c of data) chunks.push(c as Buffer);
          written.push(`${path}=${Buffer.concat(chunks).toString()}`);
        },
        now: () => clock,
      });
      const [a, b] = await uploads.create({ actor: "ada", project: "p", path: "0/r/artifacts/f.bin", numParts: 2 });
      clock += 59 * 60_000;
      const etagA = await uploads.putPart(await uploads.claim(a!.token), "hello ");
      clock += 2 * 60_000;
      await expect(uploads.claim(b!.token)).rejects.toThrow(/expired/);
      expect((await uploads.inFlightBlobs()).size).toBe(1);
      await expect(
        uploads.complete({
          actor: "ada",
          project: "p",
          path: "0/r/artifacts/f.bin",
          uploadId: a!.uploadId,
          parts: [{ partNumber: 1, etag: etagA }],
        }),
      ).rejects.toThrow(/part 2 of 2/);
      await expect(
        uploads.complete({
          actor: "ada",
          project: "other",
          path: "0/r/artifacts/f.bin",
          uploadId: a!.uploadId,
          parts: [],
        }),
      ).rejects.toThrow(/no multipart upload/);
      expect(written).toEqual([]);
      // One more period later the upload is forgotten (by the next create), and its parts with it.
      clock += 60 * 60_000;
      await uploads.create({ actor: "ada", project: "p", path: "0/r/artifacts/g.bin", numParts: 1 });
      expect((await uploads.inFlightBlobs()).size).toBe(0);
    } finally {
      await sql.close();
      db.cleanup();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
