/**
 * The prediction log writer: answered requests are buffered in memory and written in one
 * transaction every `flushMs` (default 25 ms) or when `maxBuffered` rows wait (default 5 000), never
 * one write per request. A crash loses at most the rows of the last flush window (≤ 25 ms by
 * default, plus a batch the store was writing); a clean stop flushes first. A request is buffered as
 * one object (its rows in columns: see LoggedRequest); the store turns it into rows off the event
 * loop. Short windows keep each batch small: at 7 000 answers/s a 100 ms window's batch stalled every
 * request behind it for ~3.5 ms when rows were still made here. Per-slot aggregates (requests,
 * errors, latency histogram) are written with the flush at most once a second (`statsEveryMs`), so
 * SLO checks read one row per slot and second instead of every prediction.
 */
import type { LoggedRequest, PredictionLogEntry, Slot } from "./model.js";
import type { PredictionLogStore, StatsDelta } from "./ports.js";
import { latencyBucket, LATENCY_BOUNDS_MS } from "./slo.js";

export interface PredictionLoggerOptions {
  /** How often buffered entries are written, ms (default 25). */
  flushMs?: number;
  /** How often the per-slot aggregates are written, ms (default 1 000). */
  statsEveryMs?: number;
  /** Write early when this many entries wait (default 5 000). */
  maxBuffered?: number;
  /** Drop (and count) entries beyond this many waiting, if the store falls behind (default 200 000). */
  maxPending?: number;
  /** Called when a flush fails (the entries are kept for the next try, up to maxPending). */
  onError?: (error: unknown) => void;
  /**
   * Called with the number of entries just dropped (the store fell behind by maxPending). Requests
   * never wait for the store: past the bound, answers go unlogged, counted here (metric, alert).
   */
  onDrop?: (count: number, example: LoggedRequest | undefined) => void;
}

/** One log entry as a one-row request (the LLM gateway's calls, tests). */
export function requestOfEntry(e: PredictionLogEntry): LoggedRequest {
  return {
    project: e.project,
    endpoint: e.endpoint,
    model: e.model,
    version: e.version,
    slot: e.slot,
    requestId: e.requestId,
    at: e.at,
    latencyMs: e.latencyMs,
    ids: [e.id],
    features: [e.features],
    outputs: e.error === null ? [e.output] : null,
    error: e.error,
  };
}

export class PredictionLogger {
  /** Buffered requests, and the rows they hold (the bounds count rows). */
  private buffer: LoggedRequest[] = [];
  private bufferedRows = 0;
  private stats = new Map<string, StatsDelta>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly flushMs: number;
  private readonly statsEveryMs: number;
  private statsWrittenAt = 0;
  private readonly maxBuffered: number;
  private readonly maxPending: number;
  /** Rows dropped because the store could not keep up. */
  dropped = 0;

  constructor(
    private readonly store: PredictionLogStore,
    private readonly options: PredictionLoggerOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 25;
    this.statsEveryMs = options.statsEveryMs ?? 1000;
    this.maxBuffered = options.maxBuffered ?? 5_000;
    this.maxPending = options.maxPending ?? 200_000;
  }

  get windowMs(): number {
    return this.flushMs;
  }

  /** Logs entries one row each (all of one slot and version). */
  add(entries: PredictionLogEntry[], requestFailed: boolean, latencyMs: number): void {
    const first = entries[0];
    if (!first) return;
    this.count(first.project, first.endpoint, first.slot, first.version, requestFailed, latencyMs);
    for (const e of entries) this.enqueue(requestOfEntry(e));
  }

  /** Logs one request: its aggregates now, its rows with the next flush. */
  addRequest(request: LoggedRequest, requestFailed: boolean): void {
    if (request.ids.length === 0) return;
    this.count(request.project, request.endpoint, request.slot, request.version, requestFailed, request.latencyMs);
    this.enqueue(request);
  }

  private enqueue(request: LoggedRequest): void {
    const rows = request.ids.length;
    if (this.bufferedRows + rows > this.maxPending) {
      this.drop(rows, request);
      return;
    }
    this.buffer.push(request);
    this.bufferedRows += rows;
    // While a write is under way, the next one starts when it ends (flush's finally): one waiter,
    // not one per request, when a slow database lets thousands of answers pile up.
    if (this.bufferedRows >= this.maxBuffered && !this.flushing) void this.flush(false);
    else this.timer ??= setTimeout(() => void this.flush(false), this.flushMs);
  }

  private count(
    project: string,
    endpoint: string,
    slot: Slot,
    version: number,
    failed: boolean,
    latencyMs: number,
  ): void {
    const key = `${project}\u0000${endpoint}\u0000${slot}\u0000${version}`;
    let s = this.stats.get(key);
    if (!s) {
      s = {
        project,
        endpoint,
        slot,
        version,
        at: Date.now(),
        requests: 0,
        errors: 0,
        latencyHist: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
      };
      this.stats.set(key, s);
    }
    s.requests++;
    if (failed) s.errors++;
    else s.latencyHist[latencyBucket(latencyMs)]!++;
  }

  private drop(count: number, example: LoggedRequest | undefined): void {
    this.dropped += count;
    this.options.onDrop?.(count, example);
  }

  /** Writes everything buffered now (aggregates too when `withStats`); resolves when it is stored. */
  async flush(withStats = true): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    const now = Date.now();
    const writeStats = this.stats.size > 0 && (withStats || now - this.statsWrittenAt >= this.statsEveryMs);
    if (this.buffer.length === 0 && !writeStats) {
      if (this.stats.size) this.timer ??= setTimeout(() => void this.flush(false), this.flushMs);
      return;
    }
    const requests = this.buffer;
    const rows = this.bufferedRows;
    const stats = writeStats ? [...this.stats.values()] : [];
    this.buffer = [];
    this.bufferedRows = 0;
    if (writeStats) {
      this.stats = new Map();
      this.statsWrittenAt = now;
    }
    let failed = false;
    this.flushing = this.store
      .append(requests, stats)
      .catch((error: unknown) => {
        failed = true;
        // Kept for the next try, oldest first; past the bound the oldest requests go (counted).
        const kept = requests.concat(this.buffer);
        let keptRows = rows + this.bufferedRows;
        let over = 0;
        while (keptRows > this.maxPending && over < kept.length) keptRows -= kept[over++]!.ids.length;
        if (over > 0) this.drop(rows + this.bufferedRows - keptRows, kept[0]);
        this.buffer = over > 0 ? kept.slice(over) : kept;
        this.bufferedRows = keptRows;
        this.options.onError?.(error);
      })
      .finally(() => {
        this.flushing = null;
        // A failed write is retried after a window, not at once (the database may be down).
        if (!failed && this.bufferedRows >= this.maxBuffered) void this.flush(false);
        else if (this.buffer.length || this.stats.size)
          this.timer ??= setTimeout(() => void this.flush(false), this.flushMs);
      });
    await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
