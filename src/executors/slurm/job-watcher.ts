/**
 * One poller for every job this server waits on: each tick runs one `squeue --json` (not one per
 * job: a hundred running steps would otherwise start a hundred squeue processes a second) and one
 * `sacct -P` for the jobs squeue calls final or no longer knows. sacct lags a second or two behind
 * the end of a job, so a job stays watched until sacct reports a final state.
 */
import { FINAL_STATES, sacct, squeueAll, type AccountingEntry, type QueueEntry } from "./slurm-cli.js";

export type JobUpdate =
  | { kind: "queued"; state: string; reason: string }
  | { kind: "final"; accounting: AccountingEntry }
  | { kind: "unknown"; error: string };

interface Watch {
  listener(update: JobUpdate): void;
  /** Ticks since squeue stopped knowing the job without sacct knowing it either. */
  missing: number;
}

export class JobWatcher {
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly pollMs: number,
    /** Ticks a job may be unknown to both squeue and sacct before it is reported lost (default 60). */
    private readonly patience = 60,
  ) {}

  watch(id: string, listener: (update: JobUpdate) => void): () => void {
    this.watches.set(id, { listener, missing: 0 });
    this.timer ??= setInterval(() => void this.tick(), this.pollMs);
    return () => {
      this.watches.delete(id);
      if (this.watches.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.watches.size === 0) return;
    this.ticking = true;
    try {
      let queue: Map<string, QueueEntry>;
      try {
        queue = await squeueAll();
      } catch {
        return; // the controller is restarting; try again next tick
      }
      const ended: string[] = [];
      for (const [id, w] of this.watches) {
        const q = queue.get(id);
        if (q && !FINAL_STATES.has(q.state)) w.listener({ kind: "queued", state: q.state, reason: q.reason });
        else ended.push(id);
      }
      if (!ended.length) return;
      const accounting = await sacct(ended).catch(() => new Map<string, AccountingEntry>());
      for (const id of ended) {
        const w = this.watches.get(id);
        if (!w) continue;
        const a = accounting.get(id);
        if (a && FINAL_STATES.has(a.state)) w.listener({ kind: "final", accounting: a });
        else if (!queue.has(id) && !a && ++w.missing > this.patience)
          w.listener({ kind: "unknown", error: `Slurm no longer knows job ${id} (neither squeue nor sacct)` });
      }
    } finally {
      this.ticking = false;
    }
  }
}
