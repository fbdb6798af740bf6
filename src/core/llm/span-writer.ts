/**
 * Spans made on the request path (one per LLM endpoint call) are buffered and written together every
 * `flushMs` (default 200 ms), never one insert per call, like the prediction log. A crash loses at
 * most the last window's spans; their predictions are logged independently.
 */
import type { Span } from "./model.js";
import type { TraceStore } from "./ports.js";

export class SpanWriter {
  private buffer: Span[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;

  constructor(
    private readonly store: TraceStore,
    private readonly flushMs = 200,
    /** Spans kept waiting at most; beyond it new ones are dropped (default 50 000). */
    private readonly maxPending = 50_000,
  ) {}

  add(span: Span): void {
    if (this.buffer.length >= this.maxPending) return;
    this.buffer.push(span);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.writing) await this.writing;
    if (this.buffer.length === 0) return;
    const spans = this.buffer;
    this.buffer = [];
    this.writing = this.store
      .insertSpans(spans)
      .catch(() => {
        // Keep them for the next window; a store that stays down drops the overflow above.
        this.buffer = spans.concat(this.buffer).slice(-this.maxPending);
        this.timer ??= setTimeout(() => void this.flush(), this.flushMs * 5);
      })
      .finally(() => (this.writing = null));
    await this.writing;
  }

  close(): Promise<void> {
    return this.flush();
  }
}
