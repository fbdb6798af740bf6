/**
 * A step's log stream: split into lines, secrets masked, batched into the store. Masking works on
 * whole lines, so a secret split across two reads of a pipe is still caught.
 */
import type { LogChunk } from "../model.js";

export const MASK = "***";

/** Replaces every secret value (and each line of a multi-line one) with ***. */
export function maskSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) {
    for (const part of [s, ...s.split(/\r?\n/)]) {
      // Very short values would mask ordinary words and hide nothing worth hiding.
      if (part.length < 3) continue;
      out = out.split(part).join(MASK);
    }
  }
  return out;
}

export interface LogSinkOptions {
  stepId: string;
  secrets: string[];
  write(chunks: Array<Omit<LogChunk, "seq">>): Promise<void>;
  /** Flush at most this often (default 250 ms). */
  intervalMs?: number;
  /** Echo each line somewhere else too (tests, live progress). */
  tee?: (line: string, stream: LogChunk["stream"]) => void;
}

export class LogSink {
  private partial: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
  private pending: Array<Omit<LogChunk, "seq">> = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private options: LogSinkOptions) {}

  private push(stream: LogChunk["stream"], line: string): void {
    const text = maskSecrets(line, this.options.secrets);
    this.pending.push({ stepId: this.options.stepId, stream, text, at: Date.now() });
    this.options.tee?.(text, stream);
    this.timer ??= setTimeout(() => void this.flush(), this.options.intervalMs ?? 250);
  }

  write(stream: "stdout" | "stderr", data: string): void {
    const text = this.partial[stream] + data;
    const lines = text.split("\n");
    this.partial[stream] = lines.pop()!;
    for (const line of lines) this.push(stream, line);
    // A line without a newline for 64 KiB is written anyway (progress bars, minified output).
    if (this.partial[stream].length > 65536) {
      this.push(stream, this.partial[stream]);
      this.partial[stream] = "";
    }
  }

  /** Secrets become known once the cache has missed; lines pushed from then on are masked. */
  setSecrets(secrets: string[]): void {
    this.options.secrets = secrets;
  }

  /** A line from Tandem itself (cache hit, retry, exit code). */
  system(line: string): void {
    this.push("system", line);
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing
      .then(() => (batch.length ? this.options.write(batch) : undefined))
      .catch(() => undefined);
    return this.flushing;
  }

  async close(): Promise<void> {
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.partial[stream]) this.push(stream, this.partial[stream]);
      this.partial[stream] = "";
    }
    await this.flush();
  }
}

type LogWrite = (runId: string, chunks: Array<Omit<LogChunk, "seq">>) => Promise<void>;

/**
 * `append` with the writes made in the same turn of the event loop gathered into one per run, in
 * the order they were made. The driver starts the bookkeeping of steps that ended close together
 * at once (driver.ts DEFER_MS), and each step's sink closing was an insert and a commit of its own.
 * A failed write fails every write gathered into it.
 */
export function gatheredLogWrites(append: LogWrite): LogWrite {
  type Gathered = { chunks: Array<Omit<LogChunk, "seq">>; written: Promise<void>; start: () => void };
  let turn: Map<string, Gathered> | null = null;
  return (runId, chunks) => {
    if (!turn) {
      const gathered = new Map<string, Gathered>();
      turn = gathered;
      setImmediate(() => {
        turn = null;
        for (const entry of gathered.values()) entry.start();
      });
    }
    let entry = turn.get(runId);
    if (!entry) {
      const mine: Array<Omit<LogChunk, "seq">> = [];
      let start!: () => void;
      const written = new Promise<void>((resolve) => (start = resolve)).then(() => append(runId, mine));
      entry = { chunks: mine, written, start };
      turn.set(runId, entry);
    }
    entry.chunks.push(...chunks);
    return entry.written;
  };
}

/** The system line a step's log gets when its remote job is submitted (execute.ts). */
export const submittedLine = (executor: string, job: string) => `submitted as ${executor} job ${job}`;

/**
 * How many lines of a remote job's output the step's log already holds: its stdout and stderr lines
 * after the line that recorded the job's submission. A driver that reattaches to the job hands this
 * to the executor, which skips that many (a pod's log is read from its start again). Lines a dead
 * driver read but never stored are not counted, so they are logged once, by its successor.
 * `before`: the count over the chunks before these (the log is read page by page).
 */
export function linesSinceSubmitted(chunks: LogChunk[], job: string, before = 0): number {
  const marker = ` job ${job}`;
  let count = before;
  for (const c of chunks) {
    if (c.stream === "system" && c.text.startsWith("submitted as ") && c.text.endsWith(marker)) count = 0;
    else if (c.stream !== "system") count++;
  }
  return count;
}
