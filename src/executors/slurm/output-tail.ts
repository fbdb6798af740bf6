/**
 * Follows a job's output file by offset (the file appears when the job starts, on a shared path).
 * Lines are cut on the newline byte (never inside a UTF-8 character), and `delivered` is the offset
 * after the last whole line handed on: what a server that reattaches to the job starts from.
 */
import { open, type FileHandle } from "node:fs/promises";

export class OutputTail {
  private offset: number;
  private pending = Buffer.alloc(0);
  /** Reads run one at a time: two at once would hand on the same bytes twice. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    /** Called with whole lines (newline included); the last partial line waits for its end. */
    private readonly onLines: (lines: string[]) => void,
    /** Where to start (bytes): a previous reader's `delivered`. */
    startAt = 0,
  ) {
    this.offset = startAt;
  }

  /** The offset just past the last line handed on. */
  get delivered(): number {
    return this.offset - this.pending.length;
  }

  /** Reads what was appended since the last call; `final` flushes a last line without a newline. */
  read(final = false): Promise<void> {
    const next = this.queue.then(() => this.readNow(final));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readNow(final: boolean): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.path, "r");
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.push(buffer.subarray(0, bytesRead));
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    } finally {
      await handle?.close();
    }
    if (final && this.pending.length) {
      const rest = this.pending.toString("utf8");
      this.pending = Buffer.alloc(0);
      this.onLines([rest]);
    }
  }

  private push(chunk: Buffer): void {
    const all = Buffer.concat([this.pending, chunk]);
    const cut = all.lastIndexOf(0x0a);
    if (cut < 0) {
      this.pending = all;
      return;
    }
    this.pending = Buffer.from(all.subarray(cut + 1));
    this.onLines(
      all
        .subarray(0, cut + 1)
        .toString("utf8")
        .split(/(?<=\n)/),
    );
  }
}
