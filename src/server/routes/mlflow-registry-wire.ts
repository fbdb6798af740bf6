/**
 * MLflow model-registry wire shapes and the registration source: how a `source` (`runs:/…`,
 * `mlflow-artifacts:/…`, another version's `models:/…`) becomes an artifact the registry can
 * inspect, and where a version's files are downloadable. A version's files are indexed at
 * `_registry/<model>/<version>/` in the artifact proxy, which is what get-download-uri names: they
 * stay downloadable after the source run is collected. `source` answers what the client registered
 * from, as MLflow does.
 */
import { getManifest } from "../../core/artifacts/manifest.js";
import { InvalidInputError, NotFoundError } from "../../core/errors.js";
import type { ArtifactInput } from "../../core/registry/artifact.js";
import type { ModelVersion, RegisteredModel } from "../../core/registry/model.js";
import type { Services } from "../services.js";
import { tagsOut } from "./mlflow-wire.js";

export const registryPrefix = (name: string, version: number) => `_registry/${name}/${version}`;

export function versionNumber(v: string | number | undefined): number {
  const n = Number(v);
  // MLflow's message for a version that is no integer (validation.py _validate_model_version).
  if (!Number.isSafeInteger(n)) throw new InvalidInputError(`Model version must be an integer, got '${v}'`);
  if (n < 1) throw new InvalidInputError(`Invalid value '${v}' for parameter 'version': a positive integer`);
  return n;
}

export type AliasList = Array<{ alias: string; version: number }>;

export async function aliasesOf(services: Services, project: string, name: string): Promise<AliasList> {
  return (await services.registry.listAliases(project, name)).map((a) => ({ alias: a.alias, version: a.version }));
}

/** The `source` of a version: what it was registered from, else its copy in the artifact proxy. */
export const sourceOf = (v: ModelVersion): string =>
  v.source?.uri ?? `mlflow-artifacts:/${registryPrefix(v.modelName, v.version)}`;

/** Where the version's files are downloaded: its `_registry` copy (a file's own path when a file was registered). */
export function downloadUri(v: ModelVersion): string {
  const dir = `mlflow-artifacts:/${registryPrefix(v.modelName, v.version)}`;
  return v.source?.isFile && v.artifact.storage === "blob" && v.artifact.fileName
    ? `${dir}/${v.artifact.fileName}`
    : dir;
}

export function versionOut(v: ModelVersion, aliases: AliasList) {
  return {
    name: v.modelName,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    user_id: v.author,
    current_stage: v.stage,
    description: v.description,
    source: sourceOf(v),
    run_id: v.sourceRunId ?? "",
    // Tandem keeps no run links (the run is run_id); MLflow answers the empty string it stored.
    run_link: "",
    status: "READY",
    tags: tagsOut(v.tags),
    aliases: aliases.filter((a) => a.version === v.version).map((a) => a.alias),
  };
}

export async function modelOut(services: Services, project: string, m: RegisteredModel) {
  const aliases = await aliasesOf(services, project, m.name);
  const latest = await services.registry.latestVersions(project, m.name);
  return {
    name: m.name,
    creation_timestamp: m.createdAt,
    last_updated_timestamp: m.updatedAt,
    user_id: m.owner,
    // Left out when empty, as MLflow leaves out a description it never got.
    ...(m.description ? { description: m.description } : {}),
    latest_versions: latest.map((v) => versionOut(v, aliases)),
    tags: tagsOut(m.tags),
    aliases: aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
  };
}

export async function versionWire(services: Services, project: string, v: ModelVersion) {
  return versionOut(v, await aliasesOf(services, project, v.modelName));
}

/** Indexes a version's files under `_registry/<model>/<version>/` unless they already are. */
export async function mirrorVersion(
  services: Services,
  actor: string,
  project: string,
  v: ModelVersion,
): Promise<void> {
  const prefix = registryPrefix(v.modelName, v.version);
  if ((await services.trackingArtifacts.list(project, prefix)).length) return;
  const files =
    v.artifact.storage === "blob"
      ? [{ path: v.artifact.fileName ?? "model.onnx", sha256: v.artifact.sha256, size: v.artifact.size }]
      : (await getManifest(services.artifacts, v.artifact.sha256)).entries;
  await services.trackingArtifacts.link(
    actor,
    project,
    files.map((f) => ({ ...f, path: `${prefix}/${f.path}` })),
  );
}

/**
 * `models:/<name>/<N>` (what MlflowClient.copy_model_version sends) or `models:/<name>@<alias>`: the
 * files of that version of this project, as they are. MLflow 2.12's store resolves the same two forms
 * (a stage or `latest` names no one version for it either); the run is the source version's.
 */
async function artifactOfVersion(
  services: Services,
  project: string,
  source: string,
): Promise<{ artifact: ArtifactInput; runId: string | null; isFile: boolean }> {
  const uri = /^models:\/([^/@]+)(?:\/(\d+)|@([^/@]+))\/?$/.exec(source);
  if (!uri)
    throw new InvalidInputError(
      `Unable to fetch model from model URI source artifact location '${source}': use models:/<name>/<version> or models:/<name>@<alias>`,
    );
  const v = await services.registry.resolve(project, `${uri[1]}@${uri[2] ?? uri[3]}`);
  const artifact: ArtifactInput =
    v.artifact.storage === "blob"
      ? { kind: "blob", sha256: v.artifact.sha256, fileName: v.artifact.fileName ?? "model.onnx" }
      : { kind: "manifest", sha256: v.artifact.sha256 };
  return { artifact, runId: v.sourceRunId, isFile: v.source?.isFile ?? v.artifact.storage === "blob" };
}

/** `runs:/<run>/<path>` or `mlflow-artifacts:/<path>` → the artifact-proxy path and the run id. */
async function resolveSourcePath(
  services: Services,
  project: string,
  source: string,
): Promise<{ path: string; runId: string | null }> {
  const runs = /^runs:\/([0-9a-f]{32})\/?(.*)$/.exec(source);
  if (runs) {
    const info = await services.tracking.getRunInfoIn(project, runs[1]!);
    const root = /^mlflow-artifacts:\/(.*)$/.exec(info.artifactUri)?.[1];
    if (!root) throw new InvalidInputError(`run ${runs[1]} keeps its artifacts outside Tandem (${info.artifactUri})`);
    return { path: runs[2] ? `${root}/${runs[2].replace(/\/+$/, "")}` : root, runId: info.runId };
  }
  const proxied =
    /^mlflow-artifacts:\/+(.*)$/.exec(source) ??
    /^https?:\/\/[^/]+\/api\/2\.0\/mlflow-artifacts\/artifacts\/(.*)$/.exec(source);
  if (proxied)
    return {
      path: proxied[1]!.replace(/\/+$/, ""),
      runId: /^[^/]+\/([0-9a-f]{32})\/artifacts/.exec(proxied[1]!)?.[1] ?? null,
    };
  throw new InvalidInputError(
    `Unsupported model version source '${source}': use runs:/<run_id>/<path>, mlflow-artifacts:/<path> or models:/<name>/<version>`,
  );
}

/**
 * What a `source` names, as an artifact to register: one file (a blob: an ONNX file, or anything else
 * as format `other`) or a directory (a tree: an MLflow model, a MODEL.json model, an ONNX trainer
 * output, or anything else as `other`).
 */
export async function artifactOfSource(
  services: Services,
  project: string,
  source: string,
): Promise<{ artifact: ArtifactInput; runId: string | null; isFile: boolean }> {
  if (source.startsWith("models:/")) return artifactOfVersion(services, project, source);
  const { path, runId } = await resolveSourcePath(services, project, source);
  const file = await services.trackingArtifacts.file(project, path);
  if (file)
    return {
      artifact: { kind: "blob", sha256: file.sha256, fileName: path.split("/").pop()! },
      runId,
      isFile: true,
    };
  const entries = await services.trackingArtifacts.tree(project, path);
  if (entries.length === 0) throw new NotFoundError(`No artifacts at '${source}'`);
  return { artifact: { kind: "tree", entries }, runId, isFile: false };
}
