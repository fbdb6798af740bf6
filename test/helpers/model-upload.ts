/** Registers ONNX bytes as a new version through the API (upload the blob, then POST …/versions). */
import type { TestServer } from "./server.js";

export async function registerOnnxVersion(
  server: TestServer,
  projectPath: string,
  model: string,
  bytes: Uint8Array,
  fields: Record<string, unknown> = {},
): Promise<{ status: number; version: number }> {
  const blob = await fetch(`${server.url}${projectPath}/model-blobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/octet-stream" },
    body: bytes,
  });
  const { sha256 } = (await blob.json()) as { sha256: string };
  const made = await server.api<{ version: { version: number } }>("POST", `${projectPath}/models/${model}/versions`, {
    artifact: { kind: "blob", sha256, file_name: "model.onnx" },
    ...fields,
  });
  return { status: made.status, version: made.body.version?.version };
}
