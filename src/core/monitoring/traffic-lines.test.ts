import { describe, expect, it } from "vitest";
import {
  AWKWARD_FEATURES,
  awkwardRows,
  exportedBefore,
  TARGET_NAMES,
  type AwkwardRow,
} from "../../../test/helpers/awkward-traffic.js";
import { CanonicalObjectTexts } from "./canonical-json.js";
import type { LoggedRowText } from "./monitors/ports.js";
import type { WindowRow } from "./monitors/window.js";
import { TrafficLines } from "./traffic-lines.js";

/** The rows as the window reader parses them. */
const parsed = (rows: LoggedRowText[]): WindowRow[] =>
  rows.map((r) => ({
    at: r.at,
    features: JSON.parse(r.features) as Record<string, unknown>,
    output: r.output === null ? null : (JSON.parse(r.output) as unknown),
    error: r.error,
    latencyMs: r.latencyMs,
    ...(r.label !== null ? { label: JSON.parse(r.label) as unknown } : {}),
  }));

/** JSON.stringify(JSON.parse(text)) is `text` (false for a text that is not JSON). */
function roundTrips(text: string): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

const logged = (rows: AwkwardRow[]): LoggedRowText[] =>
  rows.map((r, i) => ({ ...r, id: `p${i}`, at: Date.UTC(2026, 0, 1) + i * 997, latencyMs: 1 }));

describe("traffic export lines", () => {
  const rows = logged(awkwardRows(3000));

  it("writes every awkward row exactly as the export before it did, for any target name", () => {
    for (const target of TARGET_NAMES)
      for (const labelledOnly of [false, true]) {
        const lines = new TrafficLines(target, labelledOnly);
        // In pages, as the store hands them over.
        let out = "";
        for (let i = 0; i < rows.length; i += 256) out += lines.page(rows.slice(i, i + 256));
        expect(out, `target ${JSON.stringify(target)}, labelled only ${labelledOnly}`).toBe(
          exportedBefore(parsed(rows), target, labelledOnly),
        );
        expect(lines.seen).toBe(rows.length);
        expect(lines.rows).toBe(out.split("\n").length - 1);
        expect(lines.labelled).toBe(rows.filter((r) => r.error === null && r.label !== null).length);
      }
  });

  it("a raw lone surrogate (not storable in UTF-8, but a JavaScript string) is written as before", () => {
    const odd = logged(
      ['{"raw":"\ud800"}', '{"raw":"x\udc00"}', '{"pair":"\ud83d\ude00"}'].map((features) => ({
        features,
        output: '{"value":1}',
        error: null,
        label: "1",
      })),
    );
    expect(new TrafficLines("target", true).page(odd)).toBe(exportedBefore(parsed(odd), "target", true));
  });
});

describe("canonical object texts", () => {
  it("vouches only for texts JSON.stringify(JSON.parse(text)) gives back unchanged", () => {
    const canonical = new CanonicalObjectTexts(new Set(["prediction", "target", "at", "__proto__"]));
    let vouched = 0;
    for (const { features } of awkwardRows(3000, 11)) {
      if (!canonical.test(features)) continue;
      vouched++;
      const parsed = JSON.parse(features) as Record<string, unknown>;
      expect(JSON.stringify(parsed)).toBe(features);
      expect(Object.keys(parsed)).not.toContain("prediction");
    }
    // Most rows are written by JSON.stringify: the copy is the common path, not a rare one.
    expect(vouched).toBeGreaterThan(2000);
  });

  it("sends each awkward kind to the parse, and copies the plain ones", () => {
    const canonical = new CanonicalObjectTexts(new Set(["prediction", "target", "at", "__proto__"]));
    const vouched = AWKWARD_FEATURES.filter((text) => canonical.test(text));
    expect(vouched).toEqual([
      "{}",
      '{"a":1}',
      '{"nul":null,"t":true,"f":false,"str":"NaN","inf":"Infinity","num":"1.0"}',
      '{"label":"feature named like a target","x":1}',
      '{"":"empty name","é":"accented name","\\"q\\"":"quoted name","a\\nb":"newline name"}',
    ]);
  });

  it("checks every number's form: shortest round trip, no exponent JavaScript would not write", () => {
    const canonical = new CanonicalObjectTexts(new Set());
    const numbers = [
      "0",
      "-1",
      "1.5",
      "0.1",
      "0.000001",
      "0.0000001",
      "1e-7",
      "1e+21",
      "1e21",
      "100000000000000000000",
      "1000000000000000000000",
      "123456789012345",
      "1234567890123456",
      "12345678901234567",
      "0.30000000000000004",
      "0.3000000000000001",
      "-0",
      "-0.0",
      "2.0",
      "01",
      "1.",
      ".5",
      "-",
      "1e400",
      "5e-324",
      "4.9406564584124654e-324",
    ];
    for (const n of numbers) {
      const text = `{"n":${n}}`;
      expect(canonical.test(text), n).toBe(roundTrips(text));
    }
  });

  it("follows a change of keys between objects, duplicates and indexes included", () => {
    const canonical = new CanonicalObjectTexts(new Set(["at"]));
    expect(canonical.test('{"a":1,"b":2}')).toBe(true);
    expect(canonical.test('{"a":1,"b":2}')).toBe(true);
    expect(canonical.test('{"a":1,"b":2,"a":3}')).toBe(false);
    expect(canonical.test('{"a":1}')).toBe(true);
    expect(canonical.test('{"a":1,"c":2}')).toBe(true);
    expect(canonical.test('{"a":1,"c":2,"7":1}')).toBe(false);
    expect(canonical.test('{"a":1,"at":2}')).toBe(false);
    expect(canonical.test('{"b":1,"b":2}')).toBe(false);
    expect(canonical.test('{"b":1,"bb":2}')).toBe(true);
  });
});
