/**
 * Micro-batching: requests that arrive together run as one model call.
 *
 * While a call is running, new requests queue; when it finishes, everything queued runs as the next
 * batch. That alone batches under load and adds no latency when idle. `windowMs` > 0 also holds the
 * first request of an idle batcher for that long to gather company (a fixed latency cost that pays
 * only for models whose per-call overhead dominates). A failed batch is retried one request at a
 * time, so one bad request never fails its neighbours.
 */

export interface BatcherOptions<I, O> {
  /** Runs one batch: the rows of every job concatenated, in order. */
  run(input: I): Promise<O>;
  /** Rows of one job (a request may carry several instances). */
  rowsOf(input: I): number;
  /** Joins several jobs' inputs into one. */
  concat(inputs: I[]): I;
  /** Splits one batch's output back into per-job outputs of the given row counts. */
  split(output: O, rowCounts: number[]): O[];
  /** Extra wait to gather a batch when idle, ms (default 0). */
  windowMs?: number;
  /** Largest batch in rows (default 256). */
  maxRows?: number;
  /** Calls allowed at once (default 1: onnxruntime already uses its own threads). */
  concurrency?: number;
}

interface Job<I, O> {
  input: I;
  rows: number;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export class MicroBatcher<I, O> {
  private queue: Array<Job<I, O>> = [];
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly windowMs: number;
  private readonly maxRows: number;
  private readonly concurrency: number;

  constructor(private readonly options: BatcherOptions<I, O>) {
    this.windowMs = options.windowMs ?? 0;
    this.maxRows = options.maxRows ?? 256;
    this.concurrency = options.concurrency ?? 1;
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, rows: this.options.rowsOf(input), resolve, reject });
      this.pump();
    });
  }

  /** Jobs waiting plus batches running. */
  get pending(): number {
    return this.queue.length + this.running;
  }

  private pump(): void {
    if (this.running >= this.concurrency || this.queue.length === 0 || this.timer) return;
    if (this.windowMs > 0 && this.running === 0 && this.queueRows() < this.maxRows) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.startBatch();
      }, this.windowMs);
      return;
    }
    this.startBatch();
  }

  private queueRows(): number {
    let rows = 0;
    for (const job of this.queue) rows += job.rows;
    return rows;
  }

  private startBatch(): void {
    if (this.queue.length === 0) return;
    const batch: Array<Job<I, O>> = [];
    let rows = 0;
    while (this.queue.length && (batch.length === 0 || rows + this.queue[0]!.rows <= this.maxRows)) {
      const job = this.queue.shift()!;
      rows += job.rows;
      batch.push(job);
    }
    this.running++;
    void this.runBatch(batch).finally(() => {
      this.running--;
      this.pump();
    });
    // More room for concurrent batches: start another at once.
    this.pump();
  }

  private async runBatch(batch: Array<Job<I, O>>): Promise<void> {
    if (batch.length === 1) {
      const job = batch[0]!;
      try {
        job.resolve(await this.options.run(job.input));
      } catch (error) {
        job.reject(error);
      }
      return;
    }
    try {
      const joined = this.options.concat(batch.map((j) => j.input));
      const parts = this.options.split(
        await this.options.run(joined),
        batch.map((j) => j.rows),
      );
      batch.forEach((job, i) => job.resolve(parts[i]!));
    } catch {
      // Isolate the failure: each job alone, so only the bad one fails.
      await Promise.all(
        batch.map(async (job) => {
          try {
            job.resolve(await this.options.run(job.input));
          } catch (error) {
            job.reject(error);
          }
        }),
      );
    }
  }
}
