/**
 * The closed loop's fresh data: an endpoint's logged traffic, with the true labels that came back as
 * feedback, becomes a new version of a dataset (JSON Lines: one object per prediction with its
 * features, `prediction`, `target`, `model_version` and `at`). A retrain pipeline takes it as input.
 */
import { InvalidInputError } from "../errors.js";
import { nowMs } from "../ids.js";
import type { ArtifactStore } from "../artifacts/ports.js";
import type { DataService } from "../data/service.js";
import type { DatasetVersion } from "../data/model.js";
import type { TrafficSource } from "./monitors/ports.js";
import { predictionOf } from "./monitors/window.js";

/** A window start written as a duration ago: `30m`, `12h`, `7d`, `2w`. */
export const SINCE_DURATION = /^(\d+)([mhdw])$/;
const SINCE_UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `7d` → the time 7 days before `now`; null when `value` is not such a duration. */
export function sinceDuration(value: string, now = Date.now()): number | null {
  const m = SINCE_DURATION.exec(value);
  return m ? now - Number(m[1]) * SINCE_UNIT_MS[m[2] as keyof typeof SINCE_UNIT_MS] : null;
}

/** Rows exported at most in one version (a month of busy traffic fits; beyond that, export in parts). */
export const MAX_EXPORT_ROWS = 5_000_000;

export interface ExportOptions {
  project: string;
  endpoint: string;
  /** Window start, ms since the epoch. */
  since: number;
  /** Window end (default now). */
  until?: number;
  dataset: string;
  /** Only rows whose label came back (default true: what a retrain can learn from). */
  labelledOnly?: boolean;
  /** Name of the true-label column (default "target"). */
  targetColumn?: string;
  message?: string;
}

export interface ExportResult {
  version: DatasetVersion;
  created: boolean;
  rows: number;
  labelled: number;
}

export class TrafficExporter {
  constructor(
    private readonly traffic: TrafficSource,
    private readonly artifacts: ArtifactStore,
    private readonly data: () => DataService,
  ) {}

  async export(actor: string, o: ExportOptions): Promise<ExportResult> {
    const until = o.until ?? nowMs();
    if (!(o.since < until))
      throw new InvalidInputError(`since (${new Date(o.since).toISOString()}) must be before until`);
    const { rows, total } = await this.traffic.window(o.project, o.endpoint, o.since, until, MAX_EXPORT_ROWS);
    // A dataset version is the traffic itself, never a sample of it: too much is refused, not cut.
    if (total > MAX_EXPORT_ROWS)
      throw new InvalidInputError(
        `${o.endpoint} logged ${total} predictions between ${new Date(o.since).toISOString()} and ${new Date(until).toISOString()}, more than the ${MAX_EXPORT_ROWS} one export holds: export a shorter window (since/until) in parts`,
      );
    const target = o.targetColumn ?? "target";
    const lines: string[] = [];
    let labelled = 0;
    for (const row of rows) {
      if (row.error !== null) continue;
      const hasLabel = row.label !== undefined;
      if (hasLabel) labelled++;
      if ((o.labelledOnly ?? true) && !hasLabel) continue;
      const record: Record<string, unknown> = { ...row.features, prediction: predictionOf(row.output).prediction };
      record[target] = hasLabel ? row.label : null;
      record.at = new Date(row.at).toISOString();
      lines.push(JSON.stringify(record));
    }
    if (lines.length === 0) {
      throw new InvalidInputError(
        `endpoint ${o.endpoint} has no ${(o.labelledOnly ?? true) ? "labelled " : ""}traffic between ${new Date(o.since).toISOString()} and ${new Date(until).toISOString()}`,
      );
    }
    const blob = await this.artifacts.putBlob(`${lines.join("\n")}\n`);
    const { version, created } = await this.data().createVersion(actor, o.project, o.dataset, {
      kind: "file",
      entries: [{ path: `${o.dataset}.jsonl`, sha256: blob.sha256, size: blob.size }],
      message:
        o.message ??
        `traffic of endpoint ${o.endpoint} from ${new Date(o.since).toISOString()} to ${new Date(until).toISOString()}`,
    });
    return { version, created, rows: lines.length, labelled };
  }
}
