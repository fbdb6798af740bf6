/** Follows a job's output file by offset (the file appears when the job starts, on a shared path). */
import { open, type FileHandle } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";

export class OutputTail {
  private offset = 0;
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  constructor(
    private readonly path: string,
    /** Called with whole lines (newline included); the last partial line waits for its end. */
    private readonly onLines: (lines: string[]) => void,
  ) {}

  /** Reads what was appended since the last call; `final` flushes a last line without a newline. */
  async read(final = false): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.path, "r");
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.push(this.decoder.write(buffer.subarray(0, bytesRead)));
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    } finally {
      await handle?.close();
    }
    if (final) {
      const rest = this.partial + this.decoder.end();
      this.partial = "";
      if (rest) this.onLines([rest]);
    }
  }

  private push(text: string): void {
    const all = this.partial + text;
    const cut = all.lastIndexOf("\n");
    if (cut < 0) {
      this.partial = all;
      return;
    }
    this.partial = all.slice(cut + 1);
    this.onLines(all.slice(0, cut + 1).split(/(?<=\n)/));
  }
}
