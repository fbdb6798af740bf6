/**
 * How far a Slurm job's output files are in the step's log, kept beside the jobs on the directory
 * every server shares (TANDEM_SLURM_DIR/state, the servers' own, 0700): a server that reattaches to
 * the job after a restart or a takeover continues from there instead of logging the output again.
 * Written after each read that handed lines on (a crash between the two repeats at most one read).
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";

export interface TailOffsets {
  out: number;
  err: number;
}

export class TailState {
  private saved = "";

  constructor(private readonly path: string) {}

  /** The offsets a previous server saved, or 0 and 0 (none saved, or unreadable). */
  async load(): Promise<TailOffsets> {
    try {
      const parsed = JSON.parse(await readFile(this.path, "utf8")) as Partial<TailOffsets>;
      const offset = (n: unknown) => (Number.isSafeInteger(n) && (n as number) >= 0 ? (n as number) : 0);
      const offsets = { out: offset(parsed.out), err: offset(parsed.err) };
      this.saved = JSON.stringify(offsets);
      return offsets;
    } catch {
      return { out: 0, err: 0 };
    }
  }

  /** Saves the offsets when they moved (write and rename: a crash never leaves half a file). */
  async save(offsets: TailOffsets): Promise<void> {
    const text = JSON.stringify(offsets);
    if (text === this.saved || (offsets.out === 0 && offsets.err === 0)) return;
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, this.path);
    this.saved = text;
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
