/**
 * A Job's state from a watch that re-lists: list (the current state and a resourceVersion), then
 * watch from there; when the watch ends (the API server closes watches every few minutes, a network
 * blip), list again and watch again. Nothing is missed: the list reports whatever changed meanwhile.
 */
import type { KubeApi, KubeJob } from "./kube-api.js";

export interface JobWatchOptions {
  api: KubeApi;
  namespace: string;
  name: string;
  /** Selects the Job (and few others): the attempt's labels. */
  labelSelector: string;
  /** The Job as it is now; null when it is gone. */
  onJob(job: KubeJob | null): void;
  /** A list or watch failed (it is retried). */
  onError?(error: unknown): void;
  /** Wait before listing again after a failure (default 1000 ms). */
  retryMs?: number;
}

export class JobWatch {
  private stopped = false;
  private stopWatch: (() => void) | null = null;
  private wake: (() => void) | null = null;
  /** How many times the Job was listed (1 + the re-lists): the contract tests read it. */
  lists = 0;

  constructor(private readonly o: JobWatchOptions) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const { api, namespace, name, labelSelector } = this.o;
    while (!this.stopped) {
      let failed = false;
      try {
        const list = await api.listJobs(namespace, labelSelector);
        this.lists++;
        if (this.stopped) return;
        this.o.onJob(list.items.find((j) => j.metadata?.name === name) ?? null);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          api
            .watchJobs(
              namespace,
              { labelSelector, resourceVersion: list.metadata?.resourceVersion },
              (type, job) => {
                if (job.metadata?.name !== name || this.stopped) return;
                if (type === "DELETED") this.o.onJob(null);
                else if (type === "ADDED" || type === "MODIFIED") this.o.onJob(job);
              },
              (error) => {
                if (error && !this.stopped) {
                  failed = true;
                  this.o.onError?.(error);
                }
                resolve();
              },
            )
            .then((stop) => {
              this.stopWatch = stop;
              if (this.stopped) stop();
            })
            .catch((error: unknown) => {
              failed = true;
              this.o.onError?.(error);
              resolve();
            });
        });
      } catch (error) {
        failed = true;
        this.o.onError?.(error);
      }
      if (failed && !this.stopped) await new Promise((r) => setTimeout(r, this.o.retryMs ?? 1000));
    }
  }
}
