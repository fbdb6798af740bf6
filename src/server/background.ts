/**
 * Background loops (`services.background`): schedules, monitors, alert delivery, serving control.
 * A loop runs its tick every interval until the server stops; ticks never overlap; a failing tick
 * is logged with the loop's area and never stops the loop. What a tick did (the runs it started,
 * the monitors it ran) is logged by its `report`, with the ids an operator searches for.
 *
 * Several servers on one Postgres run the same loops. A loop's tick runs only while its server holds
 * the loop's lock (a Postgres advisory lock, PostgresLoopLock), so each schedule tick, poll, data
 * trigger, monitor window and delivery round is taken by one server; the others skip that tick. The
 * lock dies with its connection, so a server killed mid-tick leaves nothing held. The work itself is
 * also idempotent (event keys, monitor claims, delivery claims): the lock is what keeps two servers
 * from doing it twice, the keys are what keep a lost lock from doing harm.
 */
import type { Logger } from "../core/logger.js";

/** A loop repeating the same failure is logged again after this long (default once a minute), not every tick. */
const REPEAT_FAILURE_LOG_MS = 60_000;

export interface Loop<T> {
  /** The loop's area in every log line, e.g. `monitor-scheduler`. */
  name: string;
  intervalMs: number;
  tick: () => Promise<T>;
  /** Also tick once at start (default false). */
  immediately?: boolean;
  /** Logs what one tick did (default: nothing). */
  report?: (result: T, log: Logger) => void;
}

export interface BackgroundTask {
  name: string;
  start(signal: AbortSignal, log: Logger, lock: LoopLock): void;
}

/** Mutual exclusion of a loop's ticks across every server that shares the store. */
export interface LoopLock {
  /** Runs `tick` if no other server is running `loop` now; `{ ran: false }` when one is. */
  whileHeld<T>(loop: string, tick: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  close(): Promise<void>;
}

/** One process alone on its store (SQLite: a second server refuses to start): nothing to exclude. */
export const PROCESS_LOOP_LOCK: LoopLock = {
  whileHeld: async (_loop, tick) => ({ ran: true, value: await tick() }),
  close: async () => undefined,
};

/** Runs `loop` until `signal` aborts, each tick under `lock` (default: this process only). */
export function runLoop<T>(loop: Loop<T>, signal: AbortSignal, log: Logger, lock = PROCESS_LOOP_LOCK): void {
  let running = false;
  let failure: { message: string; loggedAt: number } | null = null;
  const tick = () => {
    if (running || signal.aborted) return;
    running = true;
    lock
      .whileHeld(loop.name, loop.tick)
      .then((result) => {
        if (failure) log.info({ loop: loop.name }, "recovered");
        failure = null;
        if (result.ran) loop.report?.(result.value, log);
      })
      .catch((error: unknown) => {
        // A tick cut short by the server's stop (its lock or store closing) is not a failure.
        if (signal.aborted) return;
        const message = error instanceof Error ? error.message : String(error);
        const now = Date.now();
        // A database that is down fails every tick: one line, then one a minute, not one a second.
        if (failure?.message === message && now - failure.loggedAt < REPEAT_FAILURE_LOG_MS) return;
        failure = { message, loggedAt: now };
        log.error({ loop: loop.name, err: error }, "background tick failed");
      })
      .finally(() => (running = false));
  };
  if (loop.immediately) tick();
  const timer = setInterval(tick, loop.intervalMs);
  timer.unref();
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}

/** A background task made of one loop. */
export function everyInterval<T>(loop: Loop<T>): BackgroundTask {
  return { name: loop.name, start: (signal, log, lock) => runLoop(loop, signal, log, lock) };
}
