/**
 * One poller for every job this server waits on: each tick runs one `squeue -t all -O …` (not one per
 * job: a hundred running steps would otherwise start a hundred squeue processes a second) and one
 * `sacct -P` for the jobs squeue calls final or no longer knows. sacct lags a second or two behind
 * the end of a job, so a job stays watched until sacct reports a final state.
 *
 * The state must be learnt, never waited for without a bound: when sacct cannot answer (slurmdbd or
 * its database down) a job squeue still lists as ended is finished from squeue's own state and exit
 * status after `sacctGraceMs`; when neither can say (the controller does not answer, or has
 * forgotten the job and sacct fails) for `lostAfterMs`, the job is reported unknown with the reason.
 */
import {
  FINAL_STATES,
  accountingFromQueue,
  sacct,
  squeueAll,
  type AccountingEntry,
  type QueueEntry,
} from "./slurm-cli.js";

export type JobUpdate =
  | { kind: "queued"; state: string; reason: string }
  | { kind: "final"; accounting: AccountingEntry }
  | { kind: "unknown"; error: string };

export interface JobWatcherOptions {
  pollMs: number;
  /** How long sacct may lag (or fail) after squeue lists the job as ended (default 15 s). */
  sacctGraceMs?: number;
  /** How long a job's state may stay unknown before it is reported lost (default 5 min). */
  lostAfterMs?: number;
}

interface Watch {
  listener(update: JobUpdate): void;
  /** When squeue first listed the job as ended without sacct confirming it. */
  endedSince: number | null;
  /** When the job's state stopped being known (squeue failing or not listing it, sacct not knowing it). */
  unknownSince: number | null;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export class JobWatcher {
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly sacctGraceMs: number;
  private readonly lostAfterMs: number;

  constructor(private readonly options: JobWatcherOptions) {
    this.sacctGraceMs = options.sacctGraceMs ?? 15_000;
    this.lostAfterMs = options.lostAfterMs ?? 5 * 60_000;
  }

  watch(id: string, listener: (update: JobUpdate) => void): () => void {
    this.watches.set(id, { listener, endedSince: null, unknownSince: null });
    this.timer ??= setInterval(() => void this.tick(), this.options.pollMs);
    return () => {
      this.watches.delete(id);
      if (this.watches.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Counts the job's state as unknown since the first such tick; reports it lost past the bound. */
  private unknown(id: string, w: Watch, now: number, why: string): void {
    w.unknownSince ??= now;
    if (now - w.unknownSince >= this.lostAfterMs)
      w.listener({
        kind: "unknown",
        error: `the state of Slurm job ${id} could not be learned for ${seconds(now - w.unknownSince)}: ${why}`,
      });
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.watches.size === 0) return;
    this.ticking = true;
    try {
      const now = Date.now();
      let queue: Map<string, QueueEntry>;
      try {
        queue = await squeueAll();
      } catch (error) {
        // The controller is restarting (next tick) or gone (past the bound: the step fails, saying so).
        for (const [id, w] of this.watches)
          this.unknown(id, w, now, `squeue fails (${(error as Error).message.split("\n")[0]})`);
        return;
      }
      const ended: string[] = [];
      for (const [id, w] of this.watches) {
        const q = queue.get(id);
        if (q && !FINAL_STATES.has(q.state)) {
          w.unknownSince = null;
          w.listener({ kind: "queued", state: q.state, reason: q.reason });
        } else ended.push(id);
      }
      if (!ended.length) return;
      let sacctError: string | null = null;
      const accounting = await sacct(ended).catch((error: Error) => {
        sacctError = error.message.split("\n")[0]!;
        return new Map<string, AccountingEntry>();
      });
      for (const id of ended) {
        const w = this.watches.get(id);
        if (!w) continue;
        const a = accounting.get(id);
        if (a && FINAL_STATES.has(a.state)) {
          w.listener({ kind: "final", accounting: a });
          continue;
        }
        const q = queue.get(id);
        const fromQueue = q ? accountingFromQueue(q) : null;
        if (fromQueue) {
          // Ended by squeue's word: sacct normally confirms within seconds; past the grace (sacct
          // failing or lagging), squeue's own state and exit status are the answer.
          w.unknownSince = null;
          w.endedSince ??= now;
          if (now - w.endedSince >= this.sacctGraceMs) w.listener({ kind: "final", accounting: fromQueue });
          continue;
        }
        this.unknown(
          id,
          w,
          now,
          sacctError
            ? `squeue no longer lists it and sacct fails (${sacctError as string})`
            : `neither squeue nor sacct knows it`,
        );
      }
    } finally {
      this.ticking = false;
    }
  }
}
