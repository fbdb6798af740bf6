/**
 * What starts pipelines besides a person: schedules (cron, evaluated by the server), git pushes
 * (webhook or a polled local branch), new dataset versions and alerts. Every event carries an
 * idempotency key, recorded in the same transaction that creates its run, so one event starts at most
 * one run however many servers see it (the insert of the event key is the arbiter), and a crash never
 * leaves an event recorded without its run.
 *
 * Triggered runs act as `system`, on behalf of the person behind them (`triggered_by`): whoever
 * applied the spec whose schedule, data or alert trigger fired; for a git push the pusher, mapped
 * from a configured identity by the webhook (unknown pushers and polled commits: nobody); for an
 * event a user fires through the API, that user.
 */
import { Cron } from "croner";
import { ForbiddenError, InvalidInputError, NotFoundError, PolicyRefusedError, UnprocessableError } from "../errors.js";
import { SYSTEM_USER, type Role } from "../governance/model.js";
import { nowMs } from "../ids.js";
import type { TriggerKind } from "./model.js";
import type { PipelineStore } from "./ports.js";
import type { CommitRequest } from "./run-code.js";
import type { PipelineService } from "./service.js";
import type { TriggerSpec } from "./spec/schema.js";
import { durationMs } from "./spec/names.js";

export type EventKind = Exclude<TriggerKind, "manual" | "retry">;

/** Reads the commit a local branch points at (LocalGit implements it with `git rev-parse`). */
export interface GitReader {
  head(repoPath: string, branch: string): Promise<string | null>;
}

export interface FiredRun {
  pipeline: string;
  runId: string | null;
  /** Why no run started: a duplicate event, or the `skip` concurrency policy. */
  reason?: "duplicate" | "skipped";
}

/** Errors that starting the same run again would meet again (as opposed to, say, a lost connection). */
function isRefusal(err: unknown): boolean {
  return [InvalidInputError, NotFoundError, ForbiddenError, PolicyRefusedError, UnprocessableError].some(
    (kind) => err instanceof kind,
  );
}

/** The local clone a git trigger names (`repo`, relative to tandem.yaml's folder), if any. */
function repoPath(t: TriggerSpec, workspace: string | null): string | null {
  const repo = t.git?.repo;
  if (!repo) return null;
  return repo.startsWith("/") || !workspace ? repo : `${workspace}/${repo}`;
}

function matches(t: TriggerSpec, kind: EventKind, name: string): boolean {
  switch (kind) {
    case "schedule":
      return false; // schedules fire through tickSchedules, which knows which trigger it evaluates
    case "git":
      return t.git !== undefined && t.git.branch === name;
    case "data":
      return t.data === name;
    case "alert":
      return t.alert === name;
  }
}

export class TriggerService {
  constructor(
    private readonly pipelines: PipelineService,
    private readonly store: PipelineStore,
    private readonly git?: GitReader,
  ) {}

  /**
   * The entry point for events: starts every pipeline of the project's latest spec with a matching
   * trigger, at most once per `idempotencyKey` and pipeline.
   */
  async fire(
    kind: EventKind,
    project: string,
    name: string,
    payload: Record<string, unknown>,
    idempotencyKey: string,
    options: { triggeredBy?: string | null; role?: Role | null } = {},
  ): Promise<FiredRun[]> {
    const v = await this.store.latestSpec(project);
    if (!v) return [];
    const spec = this.pipelines.specs.parsed(v);
    const out: FiredRun[] = [];
    const person = options.triggeredBy !== undefined ? options.triggeredBy : kind === "git" ? null : v.createdBy;
    for (const [pipeline, p] of Object.entries(spec.pipelines ?? {})) {
      const trigger = (p.triggers ?? []).find((t) => matches(t, kind, name));
      if (!trigger) continue;
      // A push runs its commit (checked out clean), fetched from the trigger's repo or the spec's own.
      const commit = kind === "git" && typeof payload.commit === "string" ? payload.commit : null;
      const at = commit ? { commit, source: repoPath(trigger, v.workspace) } : undefined;
      out.push(
        await this.start({
          project,
          pipeline,
          kind,
          name,
          payload,
          key: idempotencyKey,
          trigger,
          person,
          at,
          role: options.role ?? null,
        }),
      );
    }
    return out;
  }

  private async start(e: {
    project: string;
    pipeline: string;
    kind: EventKind;
    name: string;
    payload: Record<string, unknown>;
    key: string;
    trigger: TriggerSpec;
    /** The person behind the run (see the file comment). */
    person: string | null;
    /** A commit to run (git triggers), and the role of `person` for its spec's policies. */
    at?: CommitRequest;
    role?: Role | null;
  }): Promise<FiredRun> {
    const { project, pipeline, kind, name, key } = e;
    const eventKey = `${kind}:${pipeline}:${key}`;
    // Seen before: skip the work of a start (a commit's checkout); the run's transaction checks again.
    if (await this.store.hasTriggerEvent(project, eventKey)) return { pipeline, runId: null, reason: "duplicate" };
    try {
      const started = await this.pipelines.start(SYSTEM_USER, project, {
        pipeline,
        params: e.trigger.params ?? {},
        trigger: { ...e.payload, kind, name, event: key },
        triggeredBy: e.person,
        at: e.at,
        role: e.role ?? null,
        eventKey,
      });
      return started.run ? { pipeline, runId: started.run.id } : { pipeline, runId: null, reason: started.reason };
    } catch (err) {
      // A run this event can never start (bad params, a commit whose spec is refused) is still the
      // event handled: recorded, so a retry (the alert sweep, the next tick) sees a duplicate instead
      // of failing again forever. The caller still gets the error.
      if (isRefusal(err)) await this.store.recordTriggerEvent(project, eventKey, null, nowMs());
      throw err;
    }
  }

  /** The runs an event started (or tried to: runId null), pipeline by pipeline, e.g. an alert's. */
  async runsOf(kind: EventKind, project: string, key: string): Promise<FiredRun[]> {
    const events = await this.store.triggerEvents(project, `${kind}:`, `:${key}`);
    return events.map((e) => ({
      pipeline: e.key.slice(kind.length + 1, e.key.length - key.length - 1),
      runId: e.runId,
    }));
  }

  /**
   * Fires schedule triggers that came due since the last tick. The first time a schedule is seen
   * it is only remembered (no backlog of missed ticks from before it existed); the key of a tick is
   * its scheduled time, so two servers evaluating the same tick start one run.
   */
  async tickSchedules(now = nowMs()): Promise<FiredRun[]> {
    const out: FiredRun[] = [];
    for await (const { project, pipeline, index: i, trigger: t, appliedBy } of this.latestTriggers()) {
      if (t.schedule === undefined) continue;
      const stateKey = `schedule:${pipeline}:${i}:${t.schedule}:${t.timezone ?? "UTC"}`;
      const last = await this.store.getTriggerState(project, stateKey);
      if (last === null) {
        await this.store.setTriggerState(project, stateKey, String(now), now);
        continue;
      }
      const cron = new Cron(t.schedule, { paused: true, timezone: t.timezone ?? "UTC" });
      const due = cron.nextRun(new Date(Number(last)));
      if (!due || due.getTime() > now) continue;
      // Start first, then remember the tick: a crash in between evaluates the same tick again, and its
      // key (the scheduled time) makes that a duplicate; the other order would lose the tick's run.
      const key = `${i}:${due.toISOString()}`;
      out.push(
        await this.start({
          project,
          pipeline,
          kind: "schedule",
          name: t.schedule,
          payload: { scheduled_for: due.toISOString() },
          key,
          trigger: t,
          person: appliedBy,
        }),
      );
      await this.store.setTriggerState(project, stateKey, String(now), now);
    }
    return out;
  }

  /** Polls the local clones named by `git: { repo, poll }` triggers; a new head commit starts a run. */
  async pollGit(now = nowMs()): Promise<FiredRun[]> {
    if (!this.git) return [];
    const out: FiredRun[] = [];
    for await (const { project, workspace, pipeline, index: i, trigger: t } of this.latestTriggers()) {
      if (!t.git?.repo) continue;
      const base = `git:${pipeline}:${i}`;
      const polledAt = Number((await this.store.getTriggerState(project, `${base}:polled`)) ?? 0);
      if (now - polledAt < durationMs(t.git.poll ?? "60s")) continue;
      await this.store.setTriggerState(project, `${base}:polled`, String(now), now);
      const repo = repoPath(t, workspace)!;
      const head = await this.git.head(repo, t.git.branch).catch(() => null);
      if (!head) continue;
      const seen = await this.store.getTriggerState(project, `${base}:head`);
      if (seen === head) continue;
      // A polled commit has no pusher Tandem can vouch for: nobody is behind it. As for schedules, the
      // run starts before the new head is remembered (the commit is the key, so a retry dedupes).
      if (seen !== null)
        out.push(
          await this.start({
            project,
            pipeline,
            kind: "git",
            name: t.git.branch,
            payload: { commit: head, branch: t.git.branch, source: "poll" },
            key: `git:${head}`,
            trigger: t,
            person: null,
            at: { commit: head, source: repo },
          }),
        );
      await this.store.setTriggerState(project, `${base}:head`, head, now);
    }
    return out;
  }

  /** Every trigger of every project's latest spec, with where it sits (the loops above act on them). */
  private async *latestTriggers(): AsyncGenerator<{
    project: string;
    workspace: string | null;
    pipeline: string;
    index: number;
    trigger: TriggerSpec;
    /** Who applied the spec version these triggers come from. */
    appliedBy: string;
  }> {
    for (const project of await this.store.listSpecProjects()) {
      const v = await this.store.latestSpec(project);
      if (!v) continue;
      for (const [pipeline, p] of Object.entries(this.pipelines.specs.parsed(v).pipelines ?? {})) {
        for (const [index, trigger] of (p.triggers ?? []).entries())
          yield { project, workspace: v.workspace, pipeline, index, trigger, appliedBy: v.createdBy };
      }
    }
  }
}
