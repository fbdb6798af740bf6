import { describe, expect, it } from "vitest";
import { UnprocessableError } from "../errors.js";
import { endNs } from "./gateway.js";
import { renderMessages } from "./template.js";

describe("renderMessages (compiled once per messages array)", () => {
  const messages = [
    { role: "system" as const, content: "About {{ product }}: {{x}}{{ x }}." },
    { role: "user" as const, content: "{{ input }}" },
    { role: "user" as const, content: "no placeholder" },
  ];

  it("fills every placeholder, writes non-strings as JSON and takes `$` patterns literally", () => {
    expect(renderMessages(messages, { product: "P", x: 1, input: { a: 1 } }, "p@1").map((m) => m.content)).toEqual([
      "About P: 11.",
      '{"a":1}',
      "no placeholder",
    ]);
    // The second render reuses the compiled form: the same answer for other values.
    expect(renderMessages(messages, { product: "$&", x: "$1", input: "hi" }, "p@1").map((m) => m.content)).toEqual([
      "About $&: $1$1.",
      "hi",
      "no placeholder",
    ]);
  });

  it("names every missing variable", () => {
    expect(() => renderMessages(messages, { product: "P" }, "p@1")).toThrow(UnprocessableError);
    expect(() => renderMessages(messages, { product: "P" }, "p@1")).toThrow(/needs variables "input", "x"/);
  });
});

describe("endNs", () => {
  it("adds a latency to a ms timestamp in ns, exactly, without BigInt", () => {
    for (const [at, latency] of [
      [1_765_000_000_123, 0],
      [1_765_000_000_123, 2.5],
      [1_765_000_000_999, 0.9999996],
      [1_765_000_000_000, 1234.000001],
    ] as const) {
      expect(endNs(at, latency)).toBe((BigInt(at) * 1_000_000n + BigInt(Math.round(latency * 1e6))).toString());
    }
  });
});
