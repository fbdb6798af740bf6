/**
 * The closed loop's fresh data: an endpoint's logged traffic, with the true labels that came back as
 * feedback, becomes a new version of a dataset (JSON Lines: one object per prediction with its
 * features, `prediction`, `target`, `model_version` and `at`). A retrain pipeline takes it as input.
 */
import { Readable } from "node:stream";
import { InvalidInputError } from "../errors.js";
import { nowMs } from "../ids.js";
import type { ArtifactStore } from "../artifacts/ports.js";
import type { DataService } from "../data/service.js";
import type { DatasetVersion } from "../data/model.js";
import type { TrafficSource } from "./monitors/ports.js";
import { TrafficLines } from "./traffic-lines.js";

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
    const lines = new TrafficLines(o.targetColumn ?? "target", o.labelledOnly ?? true);
    const pages = this.traffic.scan(o.project, o.endpoint, o.since, until)[Symbol.asyncIterator]();
    // A dataset version is the traffic itself, never a sample of it: too much is refused, not cut (and
    // counted to the end, to say how much).
    const refuseIfTooMany = async (): Promise<void> => {
      if (lines.seen <= MAX_EXPORT_ROWS) return;
      let total = lines.seen;
      for (let next = await pages.next(); !next.done; next = await pages.next()) total += next.value.length;
      throw new InvalidInputError(
        `${o.endpoint} logged ${total} predictions between ${new Date(o.since).toISOString()} and ${new Date(until).toISOString()}, more than the ${MAX_EXPORT_ROWS} one export holds: export a shorter window (since/until) in parts`,
      );
    };
    // The lines stream into the blob page by page (the window is never held at once); the first is
    // made before the blob is begun, so an export with none stores nothing.
    let first = "";
    while (first === "") {
      const next = await pages.next();
      if (next.done) break;
      first = lines.page(next.value);
      await refuseIfTooMany();
    }
    if (first === "") {
      throw new InvalidInputError(
        `endpoint ${o.endpoint} has no ${(o.labelledOnly ?? true) ? "labelled " : ""}traffic between ${new Date(o.since).toISOString()} and ${new Date(until).toISOString()}`,
      );
    }
    async function* bytes(): AsyncGenerator<Buffer> {
      yield Buffer.from(first);
      for (let next = await pages.next(); !next.done; next = await pages.next()) {
        const text = lines.page(next.value);
        await refuseIfTooMany();
        if (text !== "") yield Buffer.from(text);
      }
    }
    const blob = await this.artifacts.putBlob(Readable.from(bytes()));
    const { version, created } = await this.data().createVersion(actor, o.project, o.dataset, {
      kind: "file",
      entries: [{ path: `${o.dataset}.jsonl`, sha256: blob.sha256, size: blob.size }],
      message:
        o.message ??
        `traffic of endpoint ${o.endpoint} from ${new Date(o.since).toISOString()} to ${new Date(until).toISOString()}`,
    });
    return { version, created, rows: lines.rows, labelled: lines.labelled };
  }
}
