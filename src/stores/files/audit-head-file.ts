import { readFile } from "node:fs/promises";
import type { AuditHeadKeeper } from "../../core/governance/ports.js";
import { writeFileAtomic } from "./atomic.js";

/** The newest audit hash, kept in a file outside the database: `<seq> <hash>\n`. */
export class FileAuditHeadKeeper implements AuditHeadKeeper {
  constructor(private readonly path: string) {}

  async read(): Promise<{ seq: number; hash: string } | null> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    const [seq, hash] = text.trim().split(/\s+/);
    if (!seq || !hash || !/^\d+$/.test(seq)) throw new Error(`${this.path}: not an audit head ("<seq> <hash>")`);
    return { seq: Number(seq), hash };
  }

  async advance(head: { seq: number; hash: string }): Promise<void> {
    const current = await this.read().catch(() => null);
    // Two processes may commit out of order; the file only ever moves forward.
    if (current && current.seq >= head.seq) return;
    await writeFileAtomic(this.path, `${head.seq} ${head.hash}\n`);
  }
}
