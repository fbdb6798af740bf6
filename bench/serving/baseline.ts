/**
 * The baseline: a bare node:http server running the same ONNX model in onnxruntime-node, with the
 * same wire format as Tandem's `/v1/endpoints/:e/predict` (objects keyed by feature name in,
 * {label, probabilities} out), and on `/v2/models/NAME/infer` Open Inference Protocol v2's (one FP32
 * tensor [N, F] in; label and probabilities tensors out) — and nothing else: no auth, no logging,
 * no metrics, no batching.
 *
 *   npx tsx bench/serving/baseline.ts MODEL.onnx FEATURE_COUNT   (prints "listening on http://…")
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import * as ort from "onnxruntime-node";

const [modelPath, featureCount] = process.argv.slice(2);
const width = Number(featureCount);
const names = Array.from({ length: width }, (_, i) => `f${i}`);
const session = await ort.InferenceSession.create(readFileSync(modelPath!), {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    void (async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          instances?: Array<Record<string, number>>;
          inputs?: Array<{ shape: number[]; data: number[] }>;
        };
        const tensor = req.url?.startsWith("/v2/") ? body.inputs![0]! : null;
        const rows = tensor ? tensor.shape[0]! : body.instances!.length;
        const data = tensor ? Float32Array.from(tensor.data) : new Float32Array(rows * width);
        if (!tensor) body.instances!.forEach((inst, r) => names.forEach((n, c) => (data[r * width + c] = inst[n]!)));
        const out = await session.run({ features: new ort.Tensor("float32", data, [rows, width]) });
        const labels = out.label!.data as BigInt64Array;
        const probs = out.probabilities!.data as Float32Array;
        res.writeHead(200, { "content-type": "application/json" });
        if (tensor) {
          res.end(
            JSON.stringify({
              model_name: "gbdt",
              outputs: [
                { name: "label", datatype: "INT64", shape: [rows], data: Array.from(labels, Number) },
                { name: "probabilities", datatype: "FP32", shape: [rows, 2], data: Array.from(probs) },
              ],
            }),
          );
          return;
        }
        const predictions = Array.from({ length: rows }, (_, r) => ({
          label: Number(labels[r]),
          probabilities: { "0": probs[r * 2]!, "1": probs[r * 2 + 1]! },
        }));
        res.end(JSON.stringify({ predictions }));
      } catch (error) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: String(error) }));
      }
    })();
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}\n`);
});
