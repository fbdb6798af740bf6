/**
 * The newest audit hash, kept in a file outside the database: `<seq> <hash>\n`. A compare-and-set
 * runs under a lock file (created with O_EXCL, so of two processes exactly one holds it), and the
 * file is replaced by an atomic rename, so a reader sees the old head or the new one, never half.
 */
import { open, readFile, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import type { AuditHead, AuditHeadKeeper } from "../../core/governance/ports.js";
import { writeFileAtomic } from "./atomic.js";

/**
 * A lock older than this was left by a process that died holding it (holders keep it for ms). Only
 * needed for a holder on another host (a shared volume): on this host the holder's pid tells at once.
 */
const STALE_LOCK_MS = 30_000;
/** How long a writer waits for the lock before giving up; longer than STALE_LOCK_MS (default 40 s). */
const LOCK_WAIT_MS = 40_000;

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
        const handle = await open(lock, "wx");
        await handle.writeFile(holderLine());
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      // A process killed (kill -9) while holding the lock leaves it behind: break it at once when its
      // holder is a dead process of this host, else only once it is old.
      const holder = await readFile(lock, "utf8").catch(() => null);
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (holder !== null && (deadHolder(holder) || age > STALE_LOCK_MS)) await breakLock(lock, holder);
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

/** What a lock file says of its holder: `<host> <pid>`. */
function holderLine(): string {
  return `${hostname()} ${process.pid}\n`;
}

/** Whether the holder named in a lock file is a process of this host that no longer exists. */
function deadHolder(line: string): boolean {
  const [host, pid] = line.trim().split(" ");
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Removes a stale lock, but only if it still names the holder we judged: two waiters breaking at once
 * would otherwise let the second remove the lock the first has just taken. Breakers take turns under
 * their own short-lived lock.
 */
async function breakLock(lock: string, judged: string): Promise<void> {
  const breaker = `${lock}.break`;
  try {
    await (await open(breaker, "wx")).close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const age = await stat(breaker).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_LOCK_MS) await rm(breaker, { force: true });
    return;
  }
  try {
    if ((await readFile(lock, "utf8").catch(() => null)) === judged) await rm(lock, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}
