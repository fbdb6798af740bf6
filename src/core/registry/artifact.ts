/**
 * What a registered artifact is, read from its bytes, in this order:
 * - a directory with an `MLmodel` at its root: an MLflow model, kept whole (`mlflow/<flavor>`,
 *   signature and requirements from MLmodel; see mlmodel.ts);
 * - a directory with a `MODEL.json`: a command-served model;
 * - an ONNX file, or a directory holding exactly one `.onnx` file (a trainer's output directory),
 *   which registers that file (signature from the trainer's `tandem.signature` metadata, else from
 *   the graph's inputs and outputs);
 * - anything else (a notes file, a directory of plots): `other`, kept and downloadable, not servable.
 */
import { createRequire } from "node:module";
import type onnxProto from "onnx-proto";
import { getManifest, putManifest } from "../artifacts/manifest.js";
import { safeRelativePath } from "../artifacts/paths.js";
import type { ArtifactStore, ManifestEntry } from "../artifacts/ports.js";
import { InvalidInputError } from "../errors.js";
import { SIGNATURE_METADATA_KEY, type ModelSignature } from "../training/signature.js";
import { readMlmodel, REQUIREMENT_FILES } from "./mlmodel.js";
import type { TensorInfo, VersionArtifact, VersionSignature } from "./model.js";

/**
 * The ONNX schema (onnx-proto with protobufjs, ~60 ms of CPU to load) is read on the first model
 * inspected, not with this module, which every process that wires the registry loads (each
 * embedded CLI command). Through require, so onnxSignature stays synchronous.
 */
const require = createRequire(import.meta.url);
let onnxSchema: typeof onnxProto.onnx | undefined;
const onnx = () => (onnxSchema ??= (require("onnx-proto") as typeof onnxProto).onnx);

/** ONNX TensorProto.DataType → onnxruntime's type names. */
const ELEMENT_TYPES: Record<number, string> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
};

/** Largest ONNX file read whole to find its signature (256 MiB); larger models register without one. */
const MAX_PARSE_BYTES = 256 * 1024 * 1024;

async function readBlob(store: ArtifactStore, sha256: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getBlob(sha256)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function tensorsOf(values: onnxProto.onnx.IValueInfoProto[] | null | undefined): TensorInfo[] {
  return (values ?? []).map((v) => {
    const tensor = v.type?.tensorType;
    const dims = tensor?.shape?.dim ?? [];
    return {
      name: v.name ?? "",
      type: ELEMENT_TYPES[tensor?.elemType ?? 0] ?? (tensor ? `onnx-type-${tensor.elemType}` : "non-tensor"),
      shape: dims.map((d) =>
        d.dimValue !== null && d.dimValue !== undefined && Number(d.dimValue) > 0 ? Number(d.dimValue) : null,
      ),
    };
  });
}

function isModelSignature(value: unknown): value is ModelSignature {
  const v = value as Partial<ModelSignature> | null;
  return (
    !!v &&
    v.schema === "tandem.signature/v1" &&
    Array.isArray(v.inputs) &&
    Array.isArray(v.outputs) &&
    Array.isArray(v.features)
  );
}

/** Reads the signature of ONNX bytes; InvalidInputError when they are not an ONNX model. */
export function onnxSignature(bytes: Uint8Array, label: string): VersionSignature {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx().ModelProto.decode(bytes);
  } catch (error) {
    throw new InvalidInputError(`${label} is not an ONNX model: ${(error as Error).message}`);
  }
  if (!model.graph) throw new InvalidInputError(`${label} is not an ONNX model: it has no graph`);
  // Initializers may be listed among inputs in old opsets; they are weights, not model inputs.
  const weights = new Set((model.graph.initializer ?? []).map((t) => t.name));
  const inputs = tensorsOf(model.graph.input).filter((t) => !weights.has(t.name));
  const outputs = tensorsOf(model.graph.output);
  const embedded = (model.metadataProps ?? []).find((p) => p.key === SIGNATURE_METADATA_KEY)?.value;
  if (embedded) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(embedded);
    } catch {
      throw new InvalidInputError(`${label}: metadata ${SIGNATURE_METADATA_KEY} is not valid JSON`);
    }
    if (!isModelSignature(parsed))
      throw new InvalidInputError(`${label}: metadata ${SIGNATURE_METADATA_KEY} is not a tandem.signature/v1 object`);
    return { source: "metadata", inputs, outputs, model: parsed };
  }
  return { source: "graph", inputs, outputs };
}

export interface CommandManifest {
  command: string | string[];
  signature?: { inputs?: TensorInfo[]; outputs?: TensorInfo[] };
  [key: string]: unknown;
}

function parseModelJson(text: string, label: string): CommandManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${label}/MODEL.json is not valid JSON: ${(error as Error).message}`);
  }
  const m = value as Partial<CommandManifest> | null;
  if (!m || typeof m !== "object" || Array.isArray(m))
    throw new InvalidInputError(`${label}/MODEL.json: expected an object`);
  const okCommand =
    typeof m.command === "string"
      ? m.command.length > 0
      : Array.isArray(m.command) && m.command.length > 0 && m.command.every((c) => typeof c === "string");
  if (!okCommand)
    throw new InvalidInputError(`${label}/MODEL.json: field "command" must be a non-empty string or array of strings`);
  return m as CommandManifest;
}

/** An uploaded artifact before inspection: one blob, or a tree given by its entries or manifest hash. */
export type ArtifactInput =
  | { kind: "blob"; sha256: string; fileName: string }
  | { kind: "tree"; entries: ManifestEntry[] }
  | { kind: "manifest"; sha256: string };

export interface InspectedArtifact {
  artifact: VersionArtifact;
  signature: VersionSignature;
  /** An MLflow model's environment files → sha256 (empty for other formats). */
  requirements: Record<string, string>;
}

const NO_SIGNATURE: VersionSignature = { source: "none", inputs: [], outputs: [] };

async function inspectOnnxBlob(
  store: ArtifactStore,
  sha256: string,
  fileName: string,
  label: string,
): Promise<InspectedArtifact> {
  const info = await store.statBlob(sha256);
  if (!info) throw new InvalidInputError(`${label}: blob ${sha256} is not in the artifact store (upload it first)`);
  const signature = info.size <= MAX_PARSE_BYTES ? onnxSignature(await readBlob(store, sha256), label) : NO_SIGNATURE;
  return {
    artifact: { format: "onnx", storage: "blob", sha256, size: info.size, fileName },
    signature,
    requirements: {},
  };
}

/** An MLflow model directory: kept whole; an `onnx` flavor's file is checked and its graph read. */
async function inspectMlflowTree(
  store: ArtifactStore,
  entries: ManifestEntry[],
  manifestSha: string,
  label: string,
): Promise<InspectedArtifact> {
  const mlmodel = entries.find((e) => e.path === "MLmodel")!;
  const info = readMlmodel((await readBlob(store, mlmodel.sha256)).toString("utf8"), label);
  const size = entries.reduce((n, e) => n + e.size, 0);
  const requirements = Object.fromEntries(
    entries.filter((e) => (REQUIREMENT_FILES as readonly string[]).includes(e.path)).map((e) => [e.path, e.sha256]),
  );
  const artifact: VersionArtifact = {
    format: info.format,
    storage: "tree",
    sha256: manifestSha,
    size,
    fileName: info.onnxFile,
  };
  const fromMlmodel: VersionSignature = {
    source: "mlmodel",
    inputs: info.inputs,
    outputs: info.outputs,
    ...(info.serving ? { model: info.serving } : {}),
    ...(info.params.length ? { params: info.params } : {}),
  };
  if (info.onnxFile === null) return { artifact, signature: fromMlmodel, requirements };
  const onnxEntry = entries.find((e) => e.path === info.onnxFile);
  if (!onnxEntry)
    throw new InvalidInputError(
      `${label}/MLmodel: the onnx flavor's data file ${info.onnxFile} is not in the directory`,
    );
  // The ONNX graph is what onnxruntime runs in-process, so its signature (and a trainer's metadata) is the one kept.
  const graph =
    onnxEntry.size <= MAX_PARSE_BYTES ? onnxSignature(await readBlob(store, onnxEntry.sha256), label) : null;
  return { artifact, signature: graph ?? fromMlmodel, requirements };
}

/** Reads what kind of model an uploaded artifact is, and its signature. */
export async function inspectArtifact(store: ArtifactStore, input: ArtifactInput): Promise<InspectedArtifact> {
  if (input.kind === "blob") {
    // The name becomes the file's path wherever the version is downloaded (MLflow clients, models
    // pull): a single plain name, never a path that climbs out (zip-slip).
    const fileName = safeRelativePath(input.fileName);
    if (fileName.includes("/"))
      throw new InvalidInputError(`file_name must be a file name, not a path: ${JSON.stringify(input.fileName)}`);
    if (fileName.toLowerCase().endsWith(".onnx")) return inspectOnnxBlob(store, input.sha256, fileName, fileName);
    const info = await store.statBlob(input.sha256);
    if (!info)
      throw new InvalidInputError(`${fileName}: blob ${input.sha256} is not in the artifact store (upload it first)`);
    return {
      artifact: { format: "other", storage: "blob", sha256: input.sha256, size: info.size, fileName },
      signature: NO_SIGNATURE,
      requirements: {},
    };
  }
  const entries = input.kind === "tree" ? input.entries : (await getManifest(store, input.sha256)).entries;
  if (entries.length === 0) throw new InvalidInputError("the model directory is empty");
  const missing = await store.missingBlobs(entries.map((e) => e.sha256));
  if (missing.length) {
    throw new InvalidInputError(
      `${missing.length} file(s) of the model directory are not uploaded, e.g. ${entries.find((e) => e.sha256 === missing[0])?.path}`,
    );
  }
  // putManifest checks every path (no absolute, no "..") and stores the canonical manifest.
  const manifestSha = input.kind === "tree" ? await putManifest(store, entries) : input.sha256;
  const label = `artifact ${manifestSha.slice(0, 12)}`;
  if (entries.some((e) => e.path === "MLmodel")) return inspectMlflowTree(store, entries, manifestSha, label);
  const modelJson = entries.find((e) => e.path === "MODEL.json");
  if (modelJson) {
    const manifest = parseModelJson((await readBlob(store, modelJson.sha256)).toString("utf8"), label);
    const size = entries.reduce((n, e) => n + e.size, 0);
    return {
      artifact: { format: "command", storage: "tree", sha256: manifestSha, size, fileName: null },
      signature: {
        source: "manifest",
        inputs: manifest.signature?.inputs ?? [],
        outputs: manifest.signature?.outputs ?? [],
      },
      requirements: {},
    };
  }
  const onnxFiles = entries.filter((e) => e.path.toLowerCase().endsWith(".onnx"));
  const chosen = onnxFiles.length === 1 ? onnxFiles[0] : onnxFiles.find((e) => e.path === "model.onnx");
  if (chosen) return inspectOnnxBlob(store, chosen.sha256, chosen.path.split("/").pop()!, chosen.path);
  const size = entries.reduce((n, e) => n + e.size, 0);
  return {
    artifact: { format: "other", storage: "tree", sha256: manifestSha, size, fileName: null },
    signature: NO_SIGNATURE,
    requirements: {},
  };
}
