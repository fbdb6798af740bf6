/**
 * Uploads that name where their files go, as an attacker names them: every upload route of a real
 * server over HTTP (dataset versions, MLflow artifacts, model versions from files) is sent paths
 * that climb out of their tree (zip-slip), absolute paths and NUL bytes. Each answers 400 naming the
 * path, and nothing is stored.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

const BAD_PATHS = ["../../evil.onnx", "a/../../evil", "/etc/evil", "a\\..\\..\\evil", "ok/\u0000evil"];

describe("uploads cannot write outside their target", () => {
  let t: TestServer;
  let blob: { sha256: string; size: number };
  beforeAll(async () => {
    t = await startTestServer();
    const bytes = Buffer.from("model bytes\n");
    const res = await fetch(`${t.url}/api/v1/projects/up/datasets/d/blobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(res.ok).toBe(true);
    blob = { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
  });
  afterAll(async () => t?.stop());

  const refused = (res: { status: number; body: unknown }, path: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const message = (res.body as { error: { message: string } }).error.message;
    expect(message).toMatch(/path/);
    expect(message).toContain(JSON.stringify(path).slice(1, 6));
  };

  it("dataset versions", async () => {
    for (const path of BAD_PATHS) {
      const res = await t.api("POST", "/api/v1/projects/up/datasets/d/versions", {
        kind: "dir",
        entries: [{ path, ...blob }],
      });
      refused(res, path);
    }
    const listed = await t.api("GET", "/api/v1/projects/up/datasets/d");
    expect(listed.status, JSON.stringify(listed.body)).toBe(404);
  });

  it("model versions from files (a tree, or one file's name)", async () => {
    for (const path of BAD_PATHS) {
      refused(
        await t.api("POST", "/api/v1/projects/up/models/m/versions", {
          artifact: { kind: "tree", entries: [{ path, ...blob }] },
        }),
        path,
      );
      refused(
        await t.api("POST", "/api/v1/projects/up/models/m/versions", {
          artifact: { kind: "blob", sha256: blob.sha256, file_name: path },
        }),
        path,
      );
    }
    expect((await t.api("GET", "/api/v1/projects/up/models/m")).status).toBe(404);
  });

  it("MLflow artifacts", async () => {
    for (const path of ["../../evil", "0/../../evil", "%2Fetc%2Fevil"]) {
      const res = await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${path.replaceAll("/", "%2F")}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${t.adminToken}`, "x-tandem-project": "up" },
        body: "x",
      });
      expect(res.status, path).toBe(400);
    }
    const listed = await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts`, {
      headers: { authorization: `Bearer ${t.adminToken}`, "x-tandem-project": "up" },
    });
    expect(((await listed.json()) as { files: unknown[] }).files).toEqual([]);
  });
});
