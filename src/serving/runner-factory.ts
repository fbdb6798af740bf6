/**
 * Loads a model version's runner from the artifact store: an ONNX blob (or an MLflow `onnx` flavor's
 * file) into an onnxruntime session; a MODEL.json directory into its own process; any other MLflow
 * flavor into MLflow's scoring server. Directories are materialised once per artifact under
 * `<home>/serving/models/<sha256>`.
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { getManifest } from "../core/artifacts/manifest.js";
import type { ArtifactStore } from "../core/artifacts/ports.js";
import { ConflictError, UnprocessableError } from "../core/errors.js";
import type { ServableVersion } from "../core/serving/ports.js";
import type { UserCodeLauncher } from "../core/ports.js";
import type { ModelRunner, RunnerFactory } from "../core/serving/runtime.js";

import { materializeTree } from "../stores/artifacts/tree.js";
import { CommandRunner } from "./command-runner.js";
import {
  DEFAULT_MLFLOW_SERVE_OPTIONS,
  mlflowServeProblem,
  mlflowServeSpec,
  type MlflowServeOptions,
} from "./mlflow-serve.js";
import type { OnnxRunnerOptions } from "./onnx-runner.js";

/**
 * onnxruntime (its native library included) loads with the first ONNX model a process serves, not
 * with every process that wires serving (each embedded CLI command does).
 */
const onnxRunner = async () => (await import("./onnx-runner.js")).OnnxRunner;

async function readAll(store: ArtifactStore, sha256: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getBlob(sha256)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface RunnerFactoryOptions {
  onnx?: OnnxRunnerOptions;
  mlflow?: MlflowServeOptions;
  /**
   * How a model served as code starts (Services.userCode: the steps' sandbox; default: a plain child
   * process, the server's settings and credentials left out of its environment).
   */
  launcher?: UserCodeLauncher;
}

export class ArtifactRunnerFactory implements RunnerFactory {
  private readonly mlflow: MlflowServeOptions;

  constructor(
    private readonly artifacts: ArtifactStore,
    /** Where directory models are unpacked. */
    private readonly workDir: string,
    private readonly options: RunnerFactoryOptions = {},
  ) {
    this.mlflow = options.mlflow ?? DEFAULT_MLFLOW_SERVE_OPTIONS;
  }

  async load(version: ServableVersion): Promise<ModelRunner> {
    if (version.format === "onnx") {
      if (version.storage !== "blob")
        throw new UnprocessableError(`${version.model}@${version.version}: an ONNX model must be one file`);
      return (await onnxRunner()).create(version, await readAll(this.artifacts, version.sha256), this.options.onnx);
    }
    if (version.format === "mlflow/onnx") {
      const entry = (await getManifest(this.artifacts, version.sha256)).entries.find(
        (e) => e.path === version.fileName,
      );
      if (!entry)
        throw new UnprocessableError(
          `${version.model}@${version.version}: its ONNX file ${version.fileName} is missing`,
        );
      return (await onnxRunner()).create(version, await readAll(this.artifacts, entry.sha256), this.options.onnx);
    }
    const dir = await this.materialize(version.sha256);
    const { launcher } = this.options;
    if (version.format === "command") return CommandRunner.create(version, dir, undefined, launcher);
    return CommandRunner.create(version, dir, mlflowServeSpec(this.mlflow, dir, version.signature), launcher);
  }

  /**
   * Refuses, before a deploy, a version this host cannot serve: an MLflow model whose scoring server
   * needs a Python with MLflow (and the flavor's library) that is not here. The 409 names what to install.
   */
  async preflight(version: ServableVersion): Promise<void> {
    if (!version.format.startsWith("mlflow/") || version.format === "mlflow/onnx") return;
    const flavor = version.format.slice("mlflow/".length);
    const problem = await mlflowServeProblem(this.mlflow, flavor);
    if (!problem) return;
    const requirements = await this.requirementsOf(version.sha256);
    throw new ConflictError(
      `${version.model}@${version.version} is an MLflow ${flavor} model, served by MLflow's scoring server, but ` +
        `${this.mlflow.python} cannot run it here (${problem.reason}). Install ${problem.install.join(" and ")} for ` +
        `that Python${requirements.length ? ` (the model lists: ${requirements.join(", ")})` : ""}, or set ` +
        `TANDEM_PYTHON to a Python that has them, or TANDEM_MLFLOW_SERVE to a command that serves MLflow models.`,
      { python: this.mlflow.python, reason: problem.reason, install: problem.install, requirements },
    );
  }

  /** The model's requirements.txt lines (empty when it has none). */
  private async requirementsOf(manifestSha: string): Promise<string[]> {
    const entry = (await getManifest(this.artifacts, manifestSha)).entries.find((e) => e.path === "requirements.txt");
    if (!entry) return [];
    return Buffer.from(await readAll(this.artifacts, entry.sha256))
      .toString("utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
  }

  /** The directory of a tree artifact, unpacked once (beside, then renamed: never a half directory). */
  private async materialize(sha256: string): Promise<string> {
    const dir = join(this.workDir, sha256);
    if (
      await stat(dir).then(
        () => true,
        () => false,
      )
    )
      return dir;
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await mkdir(tmp, { recursive: true });
    await materializeTree(this.artifacts, sha256, tmp);
    await rename(tmp, dir).catch(async () => rm(tmp, { recursive: true, force: true }));
    return dir;
  }
}
