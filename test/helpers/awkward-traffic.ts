/**
 * Logged prediction rows as a log may hold them, awkward ones included, for the traffic export's
 * byte-for-byte tests: features texts that JSON.stringify wrote (most of them) beside texts other
 * writers leave (SQLite's `2.0`, white space, `\u` escapes, exponents), unicode (pairs, lone
 * surrogates, U+2028, control characters), nulls, numbers that parse to something else (1e400, -0,
 * integers past 2^53), nested values, and names an object cannot hold as given (array indexes it
 * moves first, `__proto__`, duplicates, the columns the export adds).
 */
import { predictionOf, type WindowRow } from "../../src/core/monitoring/monitors/window.js";
import { mulberry32 } from "./seeded.js";

export interface AwkwardRow {
  features: string;
  output: string | null;
  error: string | null;
  label: string | null;
}

/** Features texts written by hand, each awkward in its own way. */
export const AWKWARD_FEATURES: readonly string[] = [
  "{}",
  '{"a":1}',
  // Each alone, then together.
  '{"a":2.0}',
  '{"a":-0}',
  '{"a":1E5}',
  '{"a":12345678901234567890}',
  '{"a":1e400}',
  '{"a":0.0000001}',
  '{"s":"caf\\u00e9"}',
  '{"s":"\\/"}',
  '{"a":1,"0":2}',
  '{"a":1,"a":2}',
  '{"a":2.0,"b":-0,"c":1E5,"d":0.0000001,"e":1.50,"f":100e-2}',
  '{"big":12345678901234567890,"safe":9007199254740993,"e21":1e21,"e21b":1e+21,"tiny":5e-324,"huge":1e400,"neg":-1e-400}',
  '{"x":123456789012345680000,"y":0.30000000000000004,"z":0.1,"w":-1.7976931348623157e308,"v":0.000001}',
  '{ "spaced" : 1 , "b" : [ 1 , 2 ] }',
  '{"s":"caf\\u00e9","t":"\\/slash","u":"\\u0001","v":"\\b\\f\\n\\r\\t\\"\\\\","w":"\\u001f"}',
  '{"emoji":"😀","pair":"\\ud83d\\ude00","lone":"\\ud800","lone2":"\\udc00x","ls":"\u2028\u2029","del":"\u007f"}',
  '{"nul":null,"t":true,"f":false,"str":"NaN","inf":"Infinity","num":"1.0"}',
  '{"nested":{"b":1,"a":[1,{"2":"x","1":"y"}]},"arr":[],"obj":{}}',
  '{"b":1,"2":"two","1":"one","0":"zero"}',
  '{"01":1,"4294967294":2,"4294967295":3,"-1":4,"1.5":5}',
  '{"__proto__":{"polluted":true},"constructor":1,"toString":2,"hasOwnProperty":3}',
  '{"a":1,"a":2,"b":3}',
  '{"prediction":"mine","x":1}',
  '{"target":9,"x":1}',
  '{"at":"then","x":1}',
  '{"label":"feature named like a target","x":1}',
  '{"":"empty name","é":"accented name","\\"q\\"":"quoted name","a\\nb":"newline name"}',
  "[1,2,3]",
  '"a string"',
  "5",
  "null",
];

/** Outputs as serving logs them: classifiers, regressors, oddities. */
const OUTPUTS: readonly (string | null)[] = [
  '{"label":0,"probabilities":{"0":0.25,"1":0.75}}',
  '{"label":"cat","probabilities":{"cat":0.5,"dog":0.5}}',
  '{"value":3.5}',
  '{"value":[1,2.0,{"k":"v"}]}',
  '{"value":null,"label":1}',
  '{"label":null}',
  "{}",
  "7",
  '"text"',
  "null",
  null,
];

/** Labels as feedback stores them (JSON text). */
const LABELS: readonly (string | null)[] = [
  null,
  "1",
  "0",
  "1.0",
  '"yes"',
  "null",
  "true",
  "[1,2]",
  '{"a":1,"0":2}',
  "1e400",
  '"\\u00e9"',
];

/** A features object of plain values, written by JSON.stringify as Tandem's log writer does. */
function writtenByTandem(rnd: () => number, width: number): string {
  const o: Record<string, unknown> = {};
  for (let c = 0; c < width; c++) {
    const pick = rnd();
    o[`f${c}`] =
      pick < 0.5
        ? Math.round(rnd() * 1e6) / 1e3
        : pick < 0.6
          ? Math.floor(rnd() * 100)
          : pick < 0.7
            ? rnd() * 1e-9
            : pick < 0.75
              ? rnd() * 1e25
              : pick < 0.8
                ? null
                : pick < 0.85
                  ? rnd() < 0.5
                  : pick < 0.9
                    ? ["SFO", "Zürich", "東京", 'say "hi"\n', "tab\there", "😀"][Math.floor(rnd() * 6)]
                    : -Math.round(rnd() * 1e9);
  }
  return JSON.stringify(o);
}

/**
 * `n` rows, seeded: a share of each awkward kind, most features written by JSON.stringify (20 or 3
 * columns, as logs of two models), some failed requests, labels of every kind.
 */
export function awkwardRows(n: number, seed = 7): AwkwardRow[] {
  const rnd = mulberry32(seed);
  const rows: AwkwardRow[] = [];
  for (let i = 0; i < n; i++) {
    const kind = rnd();
    const features =
      kind < 0.2
        ? AWKWARD_FEATURES[Math.floor(rnd() * AWKWARD_FEATURES.length)]!
        : writtenByTandem(rnd, kind < 0.6 ? 20 : 3);
    const failed = rnd() < 0.05;
    rows.push({
      features,
      output: failed ? null : OUTPUTS[Math.floor(rnd() * OUTPUTS.length)]!,
      error: failed ? "model failed: shape [1, 3]" : null,
      label: rnd() < 0.4 ? null : LABELS[Math.floor(rnd() * LABELS.length)]!,
    });
  }
  return rows;
}

/** Target column names an export may be asked for, the awkward among them. */
export const TARGET_NAMES: readonly string[] = ["target", "label", "f0", "prediction", "at", "__proto__", "0", ""];

/**
 * The export as it was before it streamed (session 9): the window's rows parsed, each one's features
 * spread into a record with the three columns after them. The oracle the streamed bytes must match.
 */
export function exportedBefore(rows: readonly WindowRow[], target: string, labelledOnly: boolean): string {
  const lines: string[] = [];
  for (const row of rows) {
    if (row.error !== null) continue;
    const hasLabel = row.label !== undefined;
    if (labelledOnly && !hasLabel) continue;
    const record: Record<string, unknown> = { ...row.features, prediction: predictionOf(row.output).prediction };
    record[target] = hasLabel ? row.label : null;
    record.at = new Date(row.at).toISOString();
    lines.push(JSON.stringify(record));
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
