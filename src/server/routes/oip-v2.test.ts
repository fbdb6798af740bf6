import { describe, expect, it } from "vitest";
import { plainV2Body, v2Body } from "./oip-v2.js";

const tensor = { name: "features", shape: [1, 2], datatype: "FP32", data: [0.5, 1] };

describe("plainV2Body", () => {
  const accepted: unknown[] = [
    { inputs: [tensor] },
    { id: "r1", parameters: { a: 1 }, inputs: [{ ...tensor, parameters: {} }], outputs: [{ name: "label" }] },
    { inputs: [tensor, { name: "f1", shape: [2], datatype: "FP32", data: [[1], [2]] }], extra: true },
    { inputs: [{ ...tensor, shape: [0, 2], data: [] }], outputs: [] },
  ];
  const refused: unknown[] = [
    null,
    [],
    "text",
    {},
    { inputs: [] },
    { inputs: {} },
    { inputs: [tensor], id: 1 },
    { inputs: [tensor], id: null },
    { inputs: [tensor], parameters: [] },
    { inputs: [tensor], parameters: null },
    { inputs: [{ ...tensor, name: 1 }] },
    { inputs: [{ ...tensor, datatype: undefined }] },
    { inputs: [{ ...tensor, data: "0.5,1" }] },
    { inputs: [{ ...tensor, shape: [1.5, 2] }] },
    { inputs: [{ ...tensor, shape: [-1, 2] }] },
    { inputs: [{ ...tensor, shape: ["1", 2] }] },
    { inputs: [{ ...tensor, shape: 2 }] },
    { inputs: [{ ...tensor, shape: [2 ** 53, 2] }] },
    { inputs: [{ ...tensor, parameters: [] }] },
    { inputs: [null] },
    { inputs: [tensor], outputs: [{}] },
    { inputs: [tensor], outputs: [{ name: 2 }] },
    { inputs: [tensor], outputs: {} },
  ];

  it("accepts the usual bodies, which the schema accepts too, with the same declared fields", () => {
    for (const body of accepted) {
      expect(plainV2Body(body)).toBe(true);
      const parsed = v2Body.safeParse(body);
      expect(parsed.success).toBe(true);
      const b = body as Record<string, unknown>;
      expect(parsed.data).toEqual({
        ...(b.id === undefined ? {} : { id: b.id }),
        ...(b.parameters === undefined ? {} : { parameters: b.parameters }),
        inputs: b.inputs,
        ...(b.outputs === undefined ? {} : { outputs: b.outputs }),
      });
    }
  });

  it("leaves every body the schema refuses to the schema (never looser)", () => {
    for (const body of refused) {
      expect(plainV2Body(body)).toBe(false);
      expect(v2Body.safeParse(body).success).toBe(false);
    }
  });
});
