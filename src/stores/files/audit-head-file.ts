/**
 * The newest audit hash, kept in a file outside the database: `<seq> <hash>\n`. A compare-and-set
 * runs under a lock file (created with O_EXCL, so of two processes exactly one holds it).
 *
 * The file is rewritten in place, never replaced by a rename: local steps are kept from reading it
 * by a bind mount onto its path in their sandbox (bwrap `--ro-bind /dev/null <file>`), and a rename
 * over that path from outside makes the kernel drop the mount in every sandbox. The running step
 * then reads and can write the real head, and a step whose bwrap was mounting at that moment failed
 * to start ("exit 1" within 20 ms: the chaos test's failure, where two servers share the file and
 * rename it on every audited action). A rename-free write keeps the file's inode, so the mounts hold.
 * A reader reads until two reads agree, so a write in progress is never taken for the head.
 */
import { constants } from "node:fs";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import type { AuditHead, AuditHeadKeeper } from "../../core/governance/ports.js";

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
    let text = await this.readText();
    // A write in place is one short write(2), but a read may still meet it half done: two reads
    // that agree are a head at rest (10 tries: writes last microseconds).
    for (let tries = 0; tries < 10 && text !== null; tries++) {
      const again = await this.readText();
      if (again === text) break;
      text = again;
    }
    // Empty: created and not written yet (a crash between the two), which is no head.
    if (text === null || text.trim() === "") return null;
    const [seq, hash] = text.trim().split(/\s+/);
    if (!seq || !hash || !/^\d+$/.test(seq) || !/^[0-9a-f]{64}$/.test(hash))
      throw new Error(`${this.location}: not an audit head ("<seq> <sha256>")`);
    return { head: { seq: Number(seq), hash }, version: `${seq} ${hash}` };
  }

  async compareAndSet(expected: string | null, next: AuditHead): Promise<boolean> {
    return this.locked(async () => {
      const current = await this.read().catch(() => null);
      if ((current?.version ?? null) !== expected) return false;
      await writeInPlace(this.location, `${next.seq} ${next.hash}\n`);
      return true;
    });
  }

  private async readText(): Promise<string | null> {
    try {
      return await readFile(this.location, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
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

/**
 * Creates the head file, empty (no head yet), where it does not exist; an existing one is left as it
 * is. Called before any step can start: the sandbox hides only paths that exist when a step starts,
 * so a head first written after that would be readable by the steps already running.
 */
export async function createAuditHeadFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await (await open(path, constants.O_WRONLY | constants.O_CREAT, 0o644)).close();
}

/**
 * Overwrites `path` keeping its inode (see the top of this file): write from offset 0, cut what is
 * left of a longer old text, fsync. A kill -9 cannot stop a write(2) half way; the seq only grows,
 * so the new text is never shorter and the cut is a no-op in practice.
 */
async function writeInPlace(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT, 0o644);
  try {
    const data = Buffer.from(text);
    for (let done = 0; done < data.length;)
      done += (await handle.write(data, done, data.length - done, done)).bytesWritten;
    await handle.truncate(data.length);
    await handle.sync();
  } finally {
    await handle.close();
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
