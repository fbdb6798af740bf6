import { describe, expect, it } from "vitest";
import { formatTable } from "./output.js";

const shown = (value: number) => formatTable([{ v: value }], ["v"]).split("\n")[1];

describe("table cells", () => {
  it("show six significant digits without trailing zeros in the decimals", () => {
    expect(shown(0.5)).toBe("0.5");
    expect(shown(0.396666666)).toBe("0.396667");
    expect(shown(42)).toBe("42");
  });

  it("keep the zeros of an exponent and of the integer part", () => {
    expect(shown(3.6947098875368014e-50)).toBe("3.69471e-50");
    expect(shown(1e-20 * 1.5)).toBe("1.5e-20");
    expect(shown(123456.7)).toBe("123457");
    expect(shown(100000.4)).toBe("100000");
  });
});
