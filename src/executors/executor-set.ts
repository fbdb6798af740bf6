/**
 * The engine's one Executor: hands each step to the executor its `executor:` names (or the server's
 * default) and answers validate's "can this executor work here?" (ExecutorCatalog). An executor the
 * server does not have fails the step with the reason instead of running it somewhere else.
 */
import type { Executor, ExecutorCatalog, JobResult, StepJob, StepProcess } from "../core/pipelines/ports.js";
import type { ExecutorName } from "../core/pipelines/spec/executors.js";

export interface ExecutorSetOptions {
  local: Executor;
  /** Remote executors this server has (absent: steps naming them fail, saying why). */
  remote: Partial<Record<Exclude<ExecutorName, "local">, Executor & { problem(): Promise<string | null> }>>;
  /** Why a missing remote executor is missing, e.g. "sbatch was not found on this server's PATH". */
  missing?: Partial<Record<ExecutorName, string>>;
  /** (default "local") */
  defaultExecutor?: ExecutorName;
}

export class ExecutorSet implements Executor, ExecutorCatalog {
  readonly name = "set";
  readonly defaultExecutor: ExecutorName;

  constructor(private readonly options: ExecutorSetOptions) {
    this.defaultExecutor = options.defaultExecutor ?? "local";
  }

  private pick(name: ExecutorName | null | undefined): Executor | string {
    const chosen = name ?? this.defaultExecutor;
    if (chosen === "local") return this.options.local;
    return (
      this.options.remote[chosen] ??
      `executor ${chosen} is not configured on this server${this.options.missing?.[chosen] ? ` (${this.options.missing[chosen]})` : ""}`
    );
  }

  problem(name: ExecutorName): Promise<string | null> {
    if (name === "local") return Promise.resolve(null);
    const remote = this.options.remote[name];
    if (!remote) return Promise.resolve((this.pick(name) as string).replace(/^executor \S+ /, "it "));
    return remote.problem();
  }

  workdir(runId: string, stepId: string, attempt: number, executor?: ExecutorName | null): string {
    const picked = this.pick(executor);
    return (typeof picked === "string" ? this.options.local : picked).workdir(runId, stepId, attempt);
  }

  run(job: StepJob): Promise<JobResult> {
    const picked = this.pick(job.execution.executor);
    if (typeof picked === "string")
      return Promise.resolve({ outcome: "failed", exitCode: null, outputs: {}, error: picked });
    return picked.run(job);
  }

  prepare(job: StepJob): () => void {
    const picked = this.pick(job.execution.executor);
    return typeof picked === "string" || !picked.prepare ? () => undefined : picked.prepare(job);
  }

  heldProcess(job: StepJob): StepProcess | null {
    const picked = this.pick(job.execution.executor);
    return typeof picked === "string" || !picked.heldProcess ? null : picked.heldProcess(job);
  }

  killOrphan(info: StepProcess): Promise<string> {
    return this.options.local.killOrphan(info);
  }

  async settle(): Promise<void> {
    await Promise.all(
      [this.options.local, ...Object.values(this.options.remote)].map((e) => e?.settle?.() ?? Promise.resolve()),
    );
  }
}
