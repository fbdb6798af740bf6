/**
 * Removes the directories of steps that succeeded, many at a time, in one `rm -rf` process per
 * batch. Node's recursive `fs.rm` walks a tree with a thread-pool round trip per entry (lstat,
 * readdir, unlink, rmdir: about ten for a step that wrote nothing), all answered on the event loop
 * that drives the run; for a DAG of short steps that was a larger share of the driver's time than
 * any store write. Removal is off the critical path: a batch goes when it is full, a moment after
 * its first directory, or when the driver settles the run (so a run never ends with its step
 * directories still there).
 *
 * `rm` is started by the step spawner (spawner.ts), not by the driving process: a fork of the driver
 * (200-300 MB) stopped its event loop for 10-20 ms per batch at load 7-14, as a step's spawn did
 * before the spawner existed.
 */
import { rm } from "node:fs/promises";
import { StepSpawner } from "./spawner.js";

export interface SweeperOptions {
  /** Directories per `rm` process (default 64). */
  batch?: number;
  /** Longest a directory waits for its batch (default 2000 ms). */
  delayMs?: number;
  /** What starts `rm` (default the process's StepSpawner.shared()). */
  spawner?: StepSpawner;
}

const removeEach = (dirs: string[]) =>
  Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }).catch(() => undefined))).then(
    () => undefined,
  );

function removeAll(dirs: string[], spawner: StepSpawner): Promise<void> {
  if (!dirs.length) return Promise.resolve();
  return new Promise((resolve) => {
    // No rm here, or it failed part-way: what is left goes the slow way.
    const slowly = () => void removeEach(dirs).then(resolve);
    // `--`: a directory name never reads as an option. rm does not follow symbolic links.
    spawner.spawn(
      { file: "rm", args: ["-rf", "--", ...dirs], cwd: "/", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
      {
        started: () => undefined,
        output: () => undefined,
        ended: (code) => (code === 0 ? resolve() : slowly()),
        failed: slowly,
      },
    );
  });
}

export class DirectorySweeper {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private removing: Promise<void> = Promise.resolve();

  constructor(private readonly options: SweeperOptions = {}) {}

  /** Queues a directory for removal. */
  add(dir: string): void {
    this.pending.push(dir);
    if (this.pending.length >= (this.options.batch ?? 64)) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.delayMs ?? 2000);
      // A waiting batch does not keep the process alive; flush() is awaited before a run ends.
      this.timer.unref();
    }
  }

  /** Removes every queued directory; resolves when they (and earlier batches) are gone. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const dirs = this.pending;
    this.pending = [];
    this.removing = this.removing.then(() => removeAll(dirs, this.options.spawner ?? StepSpawner.shared()));
    return this.removing;
  }
}
