/**
 * A run's bookkeeping that dependants need not wait for (a finished step's last log lines, its
 * tracking run's end: execute.ts `Defer`), started in groups and awaited before the run ends.
 */

/**
 * How long a finished step's bookkeeping may wait to start with that of the steps finishing after
 * it, and how many steps' at most (defaults 250 ms, as long as a step's log lines wait for their
 * write anyway (LogSink), and 32). Started one by one, each step's end was a transaction of its own
 * with an audit event: a begin, the chain head's read, the event's hash and insert and a commit, per
 * step, and an insert of its log lines (issue 18). What is left starts when the run's steps are
 * over, before the run ends.
 */
const DEFER_MS = 250;
const DEFER_GROUP = 32;

export class DeferredBookkeeping {
  /** Started, awaited before the run ends (settle). */
  private started: Array<Promise<void>> = [];
  /** Not started yet: it starts in groups (startAll). */
  private queued: Array<() => Promise<void>> = [];
  private timer: NodeJS.Timeout | null = null;

  /** Queues `work` (executeStep's `defer`). */
  readonly defer = (work: () => Promise<void>): void => {
    this.queued.push(work);
    if (this.queued.length >= DEFER_GROUP) this.startAll();
    else this.timer ??= setTimeout(() => this.startAll(), DEFER_MS);
  };

  /**
   * Starts the bookkeeping queued so far, all in one tick: the steps' log lines and tracking ends
   * then reach the tracking link together, which writes them in one audited transaction instead of
   * one per step (see DEFER_MS).
   */
  startAll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const group = this.queued;
    this.queued = [];
    for (const work of group) this.started.push(work().catch(() => undefined));
  }

  /** Starts what is queued and waits for all of it (a failure is not the run's). */
  async settle(): Promise<void> {
    this.startAll();
    await Promise.all(this.started);
  }
}
