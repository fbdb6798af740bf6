/**
 * The newest audit hash, kept in a file outside the database: `<seq> <hash>\n`. A compare-and-set
 * runs under a lock file (created with O_EXCL, so of two processes exactly one holds it), and the
 * file is replaced by an atomic rename, so a reader sees the old head or the new one, never half.
 */
import { open, readFile, rm, stat } from "node:fs/promises";
import type { AuditHead, AuditHeadKeeper } from "../../core/governance/ports.js";
import { writeFileAtomic } from "./atomic.js";

/** A lock older than this was left by a process that died holding it (holders keep it ~ms). */
const STALE_LOCK_MS = 30_000;
/** How long a writer waits for the lock before giving up (default 10 s). */
const LOCK_WAIT_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FileAuditHeadKeeper implements AuditHeadKeeper {
  constructor(readonly location: string) {}

  async read(): Promise<{ head: AuditHead; version: string } | null> {
    let text: string;
    try {
      text = await readFile(this.location, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    const [seq, hash] = text.trim().split(/\s+/);
    if (!seq || !hash || !/^\d+$/.test(seq) || !/^[0-9a-f]{64}$/.test(hash))
      throw new Error(`${this.location}: not an audit head ("<seq> <sha256>")`);
    return { head: { seq: Number(seq), hash }, version: `${seq} ${hash}` };
  }

  async compareAndSet(expected: string | null, next: AuditHead): Promise<boolean> {
    return this.locked(async () => {
      const current = await this.read().catch(() => null);
      if ((current?.version ?? null) !== expected) return false;
      await writeFileAtomic(this.location, `${next.seq} ${next.hash}\n`);
      return true;
    });
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.location}.lock`;
    const until = Date.now() + LOCK_WAIT_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        await (await open(lock, "wx")).close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      // Breaking a stale lock races only with another waiter that also waited 30 s on a dead holder.
      if (age > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (Date.now() > until) throw new Error(`${lock}: held by another process for over ${LOCK_WAIT_MS} ms`);
      else await sleep(wait);
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }
}
