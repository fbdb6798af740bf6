/**
 * The JSON Lines of a traffic export, made from the log's rows as stored (LoggedRowText). A dataset
 * version's hash is these bytes, so each line is what recordLine() writes: the row's features, then
 * `prediction`, the target column and `at` (JSON.stringify of the features object spread into a new
 * object). Where the stored features text is already JSON.stringify's form (CanonicalObjectTexts),
 * the line copies it and appends the three columns, without building any object for it.
 */
import { CanonicalObjectTexts } from "./canonical-json.js";
import type { LoggedRowText } from "./monitors/ports.js";
import { predictionOf } from "./monitors/window.js";

/** One exported line as the export has always written it (features parsed, spread, serialised). */
export function recordLine(features: unknown, output: unknown, label: unknown, at: number, target: string): string {
  const record: Record<string, unknown> = {
    ...(features as Record<string, unknown>),
    prediction: predictionOf(output).prediction,
  };
  record[target] = label !== undefined ? label : null;
  record.at = new Date(at).toISOString();
  return JSON.stringify(record);
}

/** Counts and lines of the rows handed to page(), in order. */
export class TrafficLines {
  /** Rows seen, failed and unlabelled ones included. */
  seen = 0;
  /** Lines written. */
  rows = 0;
  /** Rows answered whose label came back (written or not). */
  labelled = 0;
  /** Null when the target's name could land inside the features (then every line is built as an object). */
  private readonly canonical: CanonicalObjectTexts | null;
  /** `,"target":` */
  private readonly targetKey: string;

  constructor(
    private readonly target: string,
    private readonly labelledOnly: boolean,
  ) {
    // recordLine sets the target after `prediction` and before `at`: a target named like either, an
    // array index or `__proto__` (an assignment that sets the prototype) do not land at that place.
    const plain = !["prediction", "at", "__proto__"].includes(target) && !/^\d+$/.test(target);
    this.canonical = plain ? new CanonicalObjectTexts(new Set(["prediction", "at", "__proto__", target])) : null;
    this.targetKey = `,${JSON.stringify(target)}:`;
  }

  /** The lines of `rows`, each ending in a newline ("" when none is written). */
  page(rows: readonly LoggedRowText[]): string {
    let out = "";
    for (const row of rows) {
      this.seen++;
      if (row.error !== null) continue;
      const hasLabel = row.label !== null;
      if (hasLabel) this.labelled++;
      if (this.labelledOnly && !hasLabel) continue;
      out += `${this.line(row)}\n`;
      this.rows++;
    }
    return out;
  }

  private line(row: LoggedRowText): string {
    const output: unknown = row.output === null ? null : JSON.parse(row.output);
    const label: unknown = row.label === null ? undefined : JSON.parse(row.label);
    const features = row.features;
    if (!this.canonical?.test(features)) return recordLine(JSON.parse(features), output, label, row.at, this.target);
    const prediction = JSON.stringify(predictionOf(output).prediction);
    const labelText = label === undefined ? "null" : JSON.stringify(label);
    const head = features.length === 2 ? '{"prediction":' : `${features.slice(0, -1)},"prediction":`;
    return `${head}${prediction}${this.targetKey}${labelText},"at":"${new Date(row.at).toISOString()}"}`;
  }
}
