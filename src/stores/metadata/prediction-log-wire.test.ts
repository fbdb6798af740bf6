import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { batchesOf, type WireRequest } from "./prediction-log-rows.mjs";
import { packRequests, unpackRequests } from "./prediction-log-wire.mjs";

const names = ["a", "b"];
const otherNames = ["x"];

function request(overrides: Partial<WireRequest>): WireRequest {
  return {
    project: "default",
    endpoint: "gbdt",
    model: "gbdt",
    version: 3,
    slot: "primary",
    requestId: "0123456789abcdef0123456789abcdef",
    at: 1_765_000_000_123,
    latencyMs: 0.123456789,
    error: null,
    ids: ["00000000000000000000000000000001"],
    names,
    values: new Float64Array([1.5, -0]),
    others: null,
    featureJson: null,
    outputs: '[{"label":1}]',
    ...overrides,
  };
}

/** Output columns as plain data. */
const plainOutputs = (outputs: WireRequest["outputs"]) => {
  if (outputs === null || typeof outputs === "string") return outputs;
  if (outputs.kind === "values") return { ...outputs, values: Array.from(outputs.values) };
  return {
    ...outputs,
    labels: outputs.labels && Array.from(outputs.labels),
    probabilities: outputs.probabilities && Array.from(outputs.probabilities),
  };
};

/** The requests as plain data (typed arrays as arrays, the row count and id run as unpacked), to compare with toEqual. */
const plain = (requests: WireRequest[]) =>
  requests.map((r) => ({
    ...r,
    ids: r.idRun ? null : r.ids,
    idRun: r.idRun ?? null,
    rows: r.rows ?? r.ids!.length,
    values: r.values ? Array.from(r.values) : null,
    outputs: plainOutputs(r.outputs),
  }));

const classLabels = ["no", "yes"];

describe("packRequests / unpackRequests", () => {
  const requests: WireRequest[] = [
    request({}),
    request({
      ids: Array.from({ length: 64 }, (_, i) => `0000000000000000000000${String(i).padStart(10, "0")}`),
      values: Float64Array.from({ length: 128 }, (_, i) => i / 7),
      outputs: JSON.stringify(Array.from({ length: 64 }, (_, i) => ({ label: i % 2 }))),
      slot: "canary",
      version: 4,
    }),
    // A failed request: no outputs, an error text.
    request({ outputs: null, error: "model gbdt@3 failed: ünïcødé 🚀", ids: ["not-a-hex-id"] }),
    // Values that are not numbers ride in others; another feature list; a caller's request id.
    request({
      names: otherNames,
      values: new Float64Array([Number.NaN]),
      others: [0, "red"],
      requestId: "caller's id",
    }),
    request({ others: [], project: "other project" }),
    // Features as JSON texts (runners that answer records): no names, no values.
    request({ names: null, values: null, featureJson: ['{"a":1}', '{"a":null}'], ids: ["1", "2"], outputs: "[1,2]" }),
    request({ ids: [], values: new Float64Array(0), outputs: "[]" }),
    // Ids as one run, outputs as columns (output-rows.mjs): classes with labels and probabilities,
    // classes with probabilities only and no class labels, values.
    request({
      ids: null,
      idRun: { head: "0123456789abcdef01234567", first: 4_294_967_294 },
      rows: 2,
      values: new Float64Array([1, 2, 3, 4]),
      outputs: {
        kind: "classes",
        rows: 2,
        classLabels,
        k: 2,
        labels: new Float64Array([1, 0]),
        probabilities: new Float64Array([0.25, 0.75, 0.875, 0.125]),
      },
    }),
    request({
      idRun: { head: "0123456789abcdef01234567", first: 7 },
      outputs: {
        kind: "classes",
        rows: 1,
        classLabels: null,
        k: 3,
        labels: null,
        probabilities: new Float64Array([0.5, 0.25, Number.NaN]),
      },
    }),
    request({
      ids: null,
      idRun: { head: "fedcba9876543210fedcba98", first: 0 },
      rows: 1,
      outputs: { kind: "values", rows: 1, values: new Float64Array([-1.5e-7]) },
    }),
    request({
      outputs: { kind: "classes", rows: 1, classLabels, k: 2, labels: new Float64Array([5]), probabilities: null },
    }),
  ];

  it("gives back every request as it was packed, across a real message port with the buffers transferred", () => {
    const { packet, transfer } = packRequests(requests);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(packet, transfer);
    const received = receiveMessageOnPort(port2)!.message as typeof packet;
    port1.close();
    const unpacked = unpackRequests(received);
    expect(plain(unpacked)).toEqual(plain(requests));
    expect(Object.is(unpacked[0]!.values![1], -0)).toBe(true);
    // One feature list object per distinct list, as the rows' caches expect.
    expect(unpacked[0]!.names).toBe(unpacked[1]!.names);
    expect(unpacked[3]!.names).toEqual(otherNames);
  });

  it("makes the same prediction_batches rows as the requests themselves", () => {
    const unpacked = unpackRequests(structuredClone(packRequests(requests).packet));
    const rows = (list: WireRequest[]) =>
      list.flatMap((r) => batchesOf(r).map((b) => b.map((v) => (v instanceof Float64Array ? Array.from(v) : v))));
    expect(rows(unpacked)).toEqual(rows(requests));
  });

  it("packs no requests", () => {
    expect(unpackRequests(structuredClone(packRequests([]).packet))).toEqual([]);
  });
});
