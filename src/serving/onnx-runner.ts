/**
 * ONNX models in onnxruntime-node: one session per model artifact, warmed with a one-row run before
 * it takes traffic, fed through the micro-batcher so concurrent requests share one `run`.
 */
import * as ort from "onnxruntime-node";
import { UnprocessableError } from "../core/errors.js";
import { MicroBatcher } from "../core/serving/batcher.js";
import { buildCodec, fallbackSignature, type Codec, type FlatRows, type RawOutputs } from "../core/serving/codec.js";
import type { ServableVersion } from "../core/serving/ports.js";
import type { ModelRunner, RunnerAnswer } from "../core/serving/runtime.js";
import { SIGNATURE_METADATA_KEY, type ModelSignature } from "../core/training/signature.js";
import { TypedSlab } from "../core/serving/typed-slab.js";

/** Joined batches' inputs, as views of shared slabs (typed-slab.ts). */
const batchInputs = new TypedSlab(Float32Array);

export interface OnnxRunnerOptions {
  /** Extra wait to gather a batch when idle, ms (default 0: batches form only under load). */
  batchWindowMs?: number;
  /** Largest batch in rows (default 256). */
  maxBatchRows?: number;
  /** onnxruntime intra-op threads (default 1: on small machines the event loop needs the other core). */
  intraOpThreads?: number;
}

interface Batch {
  data: Float32Array;
  rows: number;
}

function readSignature(session: ort.InferenceSession, given: ModelSignature | null): ModelSignature {
  if (given) return given;
  const meta = (session as unknown as { metadata?: { customMetadataMap?: Record<string, string> } }).metadata;
  const embedded = meta?.customMetadataMap?.[SIGNATURE_METADATA_KEY];
  if (embedded) return JSON.parse(embedded) as ModelSignature;
  const input = (session as unknown as { inputMetadata?: Array<{ name: string; shape?: Array<number | string> }> })
    .inputMetadata?.[0];
  const width = input?.shape?.[1];
  if (typeof width !== "number")
    throw new UnprocessableError("the ONNX model carries no tandem.signature and its input has no fixed feature width");
  return fallbackSignature(input!.name, width, [...session.outputNames]);
}

export class OnnxRunner implements ModelRunner {
  private closed = false;
  private readonly batcher: MicroBatcher<Batch, RawOutputs>;

  private constructor(
    readonly model: ServableVersion,
    private readonly session: ort.InferenceSession,
    private readonly codec: Codec,
    private readonly inputName: string,
    readonly signature: ModelSignature,
    options: OnnxRunnerOptions,
  ) {
    const width = codec.features.length;
    this.batcher = new MicroBatcher<Batch, RawOutputs>({
      windowMs: options.batchWindowMs,
      maxRows: options.maxBatchRows,
      rowsOf: (b) => b.rows,
      concat: (parts) => {
        const rows = parts.reduce((n, p) => n + p.rows, 0);
        const data = batchInputs.take(rows * width);
        let offset = 0;
        for (const p of parts) {
          data.set(p.data, offset);
          offset += p.data.length;
        }
        return { data, rows };
      },
      split: (out, rowCounts) => splitOutputs(out, rowCounts),
      run: async (b) => {
        const result = await this.session.run({ [this.inputName]: new ort.Tensor("float32", b.data, [b.rows, width]) });
        const out: RawOutputs = {};
        for (const [name, t] of Object.entries(result))
          out[name] = { data: t.data as RawOutputs[string]["data"], dims: t.dims };
        return out;
      },
    });
  }

  static async create(model: ServableVersion, bytes: Uint8Array, options: OnnxRunnerOptions = {}): Promise<OnnxRunner> {
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      // Runtime failures reach the caller as errors; onnxruntime's own stderr lines would only be noise.
      logSeverityLevel: 4,
    });
    const signature = readSignature(session, model.signature);
    const codec = buildCodec(signature);
    const inputName = signature.inputs[0]?.name ?? session.inputNames[0]!;
    const runner = new OnnxRunner(model, session, codec, inputName, signature, options);
    // Warm: the first run allocates and plans; a user's request should not pay for it.
    await session
      .run({
        [inputName]: new ort.Tensor("float32", new Float32Array(codec.features.length), [1, codec.features.length]),
      })
      .catch(() => undefined);
    return runner;
  }

  get features() {
    return this.codec.features;
  }

  predictFlat(instances: FlatRows): Promise<RunnerAnswer> {
    return this.predict(instances);
  }

  async predict(instances: unknown[] | FlatRows): Promise<RunnerAnswer> {
    if (this.closed) throw new Error("model unloaded");
    const encoded = this.codec.encode(instances);
    if (encoded.rows === 0) return { predictions: [], features: encoded.logged };
    const out = await this.batcher.submit({ data: encoded.data, rows: encoded.rows });
    const { predictions, columns } = this.codec.decodeColumns(out, encoded.rows);
    return { predictions, features: encoded.logged, outputs: columns };
  }

  ready(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.batcher.pending > 0) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    await this.session.release();
  }
}

/** Splits each output tensor along its first axis into parts of the given row counts. */
export function splitOutputs(out: RawOutputs, rowCounts: number[]): RawOutputs[] {
  const total = rowCounts.reduce((a, b) => a + b, 0);
  const parts: RawOutputs[] = rowCounts.map(() => ({}));
  for (const [name, tensor] of Object.entries(out)) {
    const per = total ? tensor.data.length / total : 0;
    let row = 0;
    rowCounts.forEach((count, i) => {
      // Typed outputs split as views of the batch's arrays (a copy each made two backing stores per
      // request: typed-slab.ts); string tensors come as plain arrays, which are sliced.
      const data = ArrayBuffer.isView(tensor.data)
        ? (tensor.data as unknown as { subarray(a: number, b: number): ArrayLike<number | bigint> }).subarray(
            row * per,
            (row + count) * per,
          )
        : (tensor.data as unknown as { slice(a: number, b: number): ArrayLike<number | bigint | string> }).slice(
            row * per,
            (row + count) * per,
          );
      parts[i]![name] = { data, dims: [count, ...tensor.dims.slice(1)] };
      row += count;
    });
  }
  return parts;
}
