/**
 * Loads a model version's runner from the artifact store: an ONNX blob into an onnxruntime session,
 * a MODEL.json directory into its own process (materialised once per artifact under
 * `<home>/serving/models/<sha256>`).
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ArtifactStore } from "../core/artifacts/ports.js";
import { UnprocessableError } from "../core/errors.js";
import type { ServableVersion } from "../core/serving/ports.js";
import type { ModelRunner, RunnerFactory } from "../core/serving/runtime.js";
import { materializeTree } from "../stores/artifacts/tree.js";
import { CommandRunner } from "./command-runner.js";
import { OnnxRunner, type OnnxRunnerOptions } from "./onnx-runner.js";

async function readAll(store: ArtifactStore, sha256: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getBlob(sha256)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class ArtifactRunnerFactory implements RunnerFactory {
  constructor(
    private readonly artifacts: ArtifactStore,
    /** Where command-served models are unpacked. */
    private readonly workDir: string,
    private readonly onnx: OnnxRunnerOptions = {},
  ) {}

  async load(version: ServableVersion): Promise<ModelRunner> {
    if (version.format === "onnx") {
      if (version.storage !== "blob")
        throw new UnprocessableError(`${version.model}@${version.version}: an ONNX model must be one file`);
      return OnnxRunner.create(version, await readAll(this.artifacts, version.sha256), this.onnx);
    }
    const dir = join(this.workDir, version.sha256);
    const exists = await stat(join(dir, "MODEL.json")).then(
      () => true,
      () => false,
    );
    if (!exists) {
      // Unpack beside, then rename: a concurrent loader or a crash never leaves a half directory in place.
      const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
      await mkdir(tmp, { recursive: true });
      await materializeTree(this.artifacts, version.sha256, tmp);
      await rename(tmp, dir).catch(async () => rm(tmp, { recursive: true, force: true }));
    }
    return CommandRunner.create(version, dir);
  }
}
