/**
 * The serving runtime of one process: which model runners answer which endpoint, kept in step with
 * the database by polling its change counter (default every 250 ms, so another process's change
 * lands within about a second), and the request path: choose a slot, run, log, mirror to shadow.
 *
 * Switching versions never drops an in-flight request: a request takes the endpoint's current
 * `LiveEndpoint` at its start and keeps it; new runners are loaded and warmed before the swap, and an
 * old runner is closed only when no endpoint uses it and its own queue has drained.
 */
import { fastId as newId, fastIdRun } from "./fast-id.js";
import { ConflictError, NotFoundError, TandemError } from "../errors.js";
import type { ModelSignature } from "../training/signature.js";
import type { Endpoint, LoggedFeatures, Slot } from "./model.js";
import type { ModelResolver, ServableVersion, ServingStore } from "./ports.js";
import type { PredictionLogger } from "./prediction-log.js";
import { chooseCanary } from "./traffic.js";
import { FlatRows } from "./codec.js";
import type { OutputColumns } from "./output-rows.mjs";

/** A runner's answer: one prediction per instance, and what the log keeps of the request. */
export interface RunnerAnswer {
  predictions: unknown[];
  /** The instances' features for the log. */
  features: LoggedFeatures;
  /**
   * The numbers the predictions were made from (output-rows.mjs), where the runner has them: the log
   * then makes the predictions' text on its writer thread instead of the event loop (default: none,
   * the log takes JSON.stringify(predictions)).
   */
  outputs?: OutputColumns | null;
}

export interface ModelRunner {
  readonly model: ServableVersion;
  /** What the model takes and answers (null for a command-served model without one). */
  readonly signature: ModelSignature | null;
  /** One prediction per instance, and the instances' features for the log. */
  predict(instances: unknown[]): Promise<RunnerAnswer>;
  /** The same for instances sent as one flat tensor, without an array per row (runners without it get rows). */
  predictFlat?(instances: FlatRows): Promise<RunnerAnswer>;
  ready(): boolean;
  /** Waits for queued work, then frees the model. */
  close(): Promise<void>;
}

/** Loads a runner for a version (ONNX session, or the model's own process) and warms it. */
export interface RunnerFactory {
  load(version: ServableVersion): Promise<ModelRunner>;
  /** Refuses (ConflictError naming what is missing) a version this host cannot serve, before a deploy. */
  preflight?(version: ServableVersion): Promise<void>;
}

/** Counts requests per endpoint/version/slot for /metrics (prom-client implements it in server/). */
export interface ServingMetrics {
  observe(
    labels: { project: string; endpoint: string; version: string; slot: Slot; outcome: "ok" | "error" },
    seconds: number,
  ): void;
}

interface Lease {
  runner: ModelRunner;
  refs: number;
}

export interface LiveEndpoint {
  endpoint: Endpoint;
  primary: ModelRunner | null;
  canary: ModelRunner | null;
  shadow: ModelRunner | null;
}

export interface PredictResult {
  predictions: unknown[];
  /**
   * `predictions` as JSON text, made when first read (the JSON route's answer) and shared with the
   * prediction log when the runner gave no output columns (a 64-row answer's text is about as
   * costly to make as everything else the log does on the event loop).
   */
  readonly predictionsJson: string;
  predictionIds: string[];
  model: string;
  version: number;
  slot: Slot;
  requestId: string;
}

export interface RuntimeOptions {
  store: ServingStore;
  resolver: ModelResolver;
  factory: RunnerFactory;
  logger: PredictionLogger;
  metrics?: ServingMetrics;
  /** Serve only these endpoints, as `project/name` (default: all). */
  only?: ReadonlySet<string>;
  /** Change-counter poll interval, ms (default 250). */
  pollMs?: number;
  /** Called when loading a model fails (the endpoint keeps its previous runners). */
  onLoadError?: (endpoint: Endpoint, error: unknown) => void;
}

const key = (project: string, name: string) => `${project}/${name}`;

/** A run that answered: its predictions' text where it was made for the log (null: not yet). */
interface Answered {
  ok: true;
  predictions: unknown[];
  json: string | null;
  ids: string[];
}

/**
 * The answer, its predictions' text made on first read (only the JSON route reads it). A class, not
 * an object literal with a getter: each literal's getter is a closure of its own, so every answer had
 * a hidden class of its own (V8 keeps accessors in the map), and the sites reading answers went
 * megamorphic while each map was allocated and collected. That is what made 100420f's 1-row requests
 * costlier: micro-benchmark of runtime.predict (32 in flight, 10 alternated 2-s rounds, load 14-18),
 * main-thread CPU per request +21% with the literal, back to its parent's with this class.
 */
class AnswerResult implements PredictResult {
  readonly predictions: unknown[];
  readonly predictionIds: string[];
  private json: string | null;
  constructor(
    answer: Answered,
    readonly model: string,
    readonly version: number,
    readonly slot: Slot,
    readonly requestId: string,
  ) {
    this.predictions = answer.predictions;
    this.predictionIds = answer.ids;
    this.json = answer.json;
  }
  get predictionsJson(): string {
    return (this.json ??= JSON.stringify(this.predictions));
  }
}

export class ServingRuntime {
  private live = new Map<string, LiveEndpoint>();
  /** Why an endpoint's models could not be loaded (shown to callers instead of "not found"). */
  private loadErrors = new Map<string, string>();
  private leases = new Map<string, Lease>();
  private seenCounter = -1;
  private syncing: Promise<void> | null = null;
  private lastSyncAt = 0;
  metrics: ServingMetrics | undefined;
  /** Serve only these endpoints, as `project/name` (null: all). `tandem serve E…` sets it. */
  only: ReadonlySet<string> | null;

  constructor(private readonly options: RuntimeOptions) {
    this.metrics = options.metrics;
    this.only = options.only ?? null;
  }

  get pollMs(): number {
    return this.options.pollMs ?? 250;
  }

  endpoints(): LiveEndpoint[] {
    return [...this.live.values()];
  }

  /** Reloads when the change counter moved (or `force`). Concurrent calls share one pass. */
  async sync(force = false): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = (async () => {
      const counter = await this.options.store.changeCounter();
      if (force || counter !== this.seenCounter) {
        await this.reload();
        this.seenCounter = counter;
      }
      this.lastSyncAt = Date.now();
    })().finally(() => (this.syncing = null));
    return this.syncing;
  }

  /**
   * A pass that reads the change counter after this call. A pass already under way may have read it
   * before the change the caller knows of (an apply that just committed), so it is waited for and
   * another one runs (shared by everyone who asked meanwhile).
   */
  async syncFresh(): Promise<void> {
    if (this.syncing) await this.syncing.catch(() => undefined);
    return this.sync();
  }

  /**
   * After a change this process made (`tandem apply`, a deploy): a fresh pass when the process
   * serves (it has synced before), so the change answers the next call here; nothing in a process
   * that only administers (the embedded CLI), which would otherwise load every model to apply a spec.
   */
  syncIfServing(): Promise<void> | undefined {
    return this.lastSyncAt > 0 ? this.syncFresh() : undefined;
  }

  /**
   * Syncs when the last sync is older than a few poll intervals: a process without the background
   * loop (the embedded CLI) still serves what the database says; with the loop running this is free.
   * A promise only when a sync is due: callers on the hot path skip an await tick otherwise.
   */
  syncIfStale(): Promise<void> | undefined {
    return Date.now() - this.lastSyncAt > this.pollMs * 4 ? this.sync() : undefined;
  }

  /**
   * What a request for `project/name` waits for before it is served: a stale sync (as above), or a
   * fresh pass when this process does not serve the endpoint (yet), or serves it with no version. An endpoint applied through
   * another server on the same database answers its first call here, instead of a 404 until the
   * next poll; a name that exists nowhere costs one change-counter read (shared by concurrent asks).
   */
  syncBeforeServing(project: string, name: string): Promise<void> | undefined {
    const stale = this.syncIfStale();
    if (stale) return stale;
    const k = key(project, name);
    // Served with a version: nothing to wait for. Known but without one yet is not enough: a pass can
    // land between an apply's writes (the endpoint, then its prompt or model version), and the next
    // call must not meet that half-loaded state until the poll after.
    if (this.live.get(k)?.primary || this.loadErrors.has(k) || (this.only && !this.only.has(k))) return undefined;
    return this.syncFresh();
  }

  private async acquire(project: string, model: string, version: number | null): Promise<ModelRunner | null> {
    if (version === null) return null;
    const servable = await this.options.resolver.resolve(project, model, { kind: "version", version });
    const id = `${servable.storage}:${servable.sha256}`;
    let lease = this.leases.get(id);
    if (!lease) {
      lease = { runner: await this.options.factory.load(servable), refs: 0 };
      // Another reload may have loaded it meanwhile.
      const raced = this.leases.get(id);
      if (raced) {
        void lease.runner.close();
        lease = raced;
      } else this.leases.set(id, lease);
    }
    lease.refs++;
    return lease.runner;
  }

  private release(runner: ModelRunner | null): void {
    if (!runner) return;
    const id = `${runner.model.storage}:${runner.model.sha256}`;
    const lease = this.leases.get(id);
    if (!lease) return;
    lease.refs--;
    if (lease.refs <= 0) {
      this.leases.delete(id);
      void runner.close();
    }
  }

  private async reload(): Promise<void> {
    const wanted = (await this.options.store.listEndpoints(null)).filter(
      (e) => !this.only || this.only.has(key(e.project, e.name)),
    );
    const next = new Map<string, LiveEndpoint>();
    for (const e of wanted) {
      const old = this.live.get(key(e.project, e.name));
      if (old && old.endpoint.revision === e.revision) {
        next.set(key(e.project, e.name), old);
        continue;
      }
      const acquired: Array<ModelRunner | null> = [];
      try {
        for (const v of [e.primaryVersion, e.canaryVersion, e.shadowVersion])
          acquired.push(await this.acquire(e.project, e.model, v));
        next.set(key(e.project, e.name), {
          endpoint: e,
          primary: acquired[0]!,
          canary: acquired[1]!,
          shadow: acquired[2]!,
        });
        this.loadErrors.delete(key(e.project, e.name));
      } catch (error) {
        for (const r of acquired) this.release(r);
        const reason = error instanceof Error ? error.message.split("\n")[0]! : String(error);
        this.loadErrors.set(key(e.project, e.name), reason.slice(0, 300));
        this.options.onLoadError?.(e, error);
        if (old) next.set(key(e.project, e.name), old);
      }
    }
    const wantedKeys = new Set(wanted.map((e) => key(e.project, e.name)));
    for (const k of [...this.loadErrors.keys()]) if (!wantedKeys.has(k)) this.loadErrors.delete(k);
    const previous = this.live;
    this.live = next;
    for (const [k, old] of previous) {
      if (next.get(k) === old) continue;
      this.release(old.primary);
      this.release(old.canary);
      this.release(old.shadow);
    }
  }

  get(project: string, name: string): LiveEndpoint {
    const live = this.live.get(key(project, name));
    const loadError = this.loadErrors.get(key(project, name));
    if (!live && loadError)
      throw new ConflictError(`endpoint ${name} cannot serve yet: loading its model failed: ${loadError}`);
    if (!live)
      throw new NotFoundError(
        `endpoint ${JSON.stringify(name)} is not served here (project ${JSON.stringify(project)})`,
      );
    return live;
  }

  /** Why this process could not load the endpoint's models at its last reload (null: it could, or never tried). */
  loadError(project: string, name: string): string | null {
    return this.loadErrors.get(key(project, name)) ?? null;
  }

  isReady(project: string, name: string): boolean {
    const live = this.live.get(key(project, name));
    return Boolean(live?.primary?.ready());
  }

  /**
   * The runner that serves `version` of an endpoint now, and in which slot; a version the endpoint
   * does not serve (any more, or yet) is not found, and the error names the ones it does.
   */
  servedVersion(project: string, name: string, version: number): { runner: ModelRunner; slot: Slot } {
    const live = this.get(project, name);
    const served = (["primary", "canary", "shadow"] as const).flatMap((slot) => {
      const runner = live[slot];
      return runner ? [{ runner, slot }] : [];
    });
    const found = served.find((s) => s.runner.model.version === version);
    if (found) return found;
    const list = served.map((s) => `${s.runner.model.version} (${s.slot})`).join(", ") || "none yet";
    throw new NotFoundError(`endpoint ${name} does not serve version ${version}; it serves ${list}`, {
      served: served.map((s) => ({ version: s.runner.model.version, slot: s.slot })),
    });
  }

  /**
   * Answers with one version the endpoint serves, as a caller that names the version asks: no
   * traffic split, no fallback to the primary, no shadow mirror. Logged under that version and slot.
   */
  async predictVersion(
    project: string,
    name: string,
    version: number,
    instances: unknown[] | FlatRows,
    requestId: string = newId(),
  ): Promise<PredictResult> {
    const live = this.get(project, name);
    const { runner, slot } = this.servedVersion(project, name, version);
    const answer = await this.run(live, runner, slot, instances, requestId);
    if (!answer.ok) throw answer.error;
    return new AnswerResult(answer, live.endpoint.model, version, slot, requestId);
  }

  async predict(
    project: string,
    name: string,
    instances: unknown[] | FlatRows,
    routingKey?: string,
    requestId: string = newId(),
  ): Promise<PredictResult> {
    const live = this.get(project, name);
    if (!live.primary) throw new TandemError("CONFLICT", `endpoint ${name} has no version to serve yet`);
    const percent = live.endpoint.canary?.percent ?? 0;
    const useCanary = live.canary !== null && chooseCanary(percent, routingKey);
    let slot: Slot = useCanary ? "canary" : "primary";
    let runner = useCanary ? live.canary! : live.primary;
    let answer = await this.run(live, runner, slot, instances, requestId);
    if (!answer.ok && slot === "canary") {
      // A failing canary must not fail the caller: its error is logged (and judged by the SLO), the primary answers.
      slot = "primary";
      runner = live.primary;
      answer = await this.run(live, runner, slot, instances, requestId);
    }
    if (live.shadow && chooseCanary(live.endpoint.shadowPercent, undefined))
      void this.run(live, live.shadow, "shadow", instances, requestId).catch(() => undefined);
    if (!answer.ok) throw answer.error;
    return new AnswerResult(answer, live.endpoint.model, runner.model.version, slot, requestId);
  }

  private async run(
    live: LiveEndpoint,
    runner: ModelRunner,
    slot: Slot,
    instances: unknown[] | FlatRows,
    requestId: string,
  ): Promise<Answered | { ok: false; error: unknown }> {
    const started = performance.now();
    const e = live.endpoint;
    const at = Date.now();
    const version = runner.model.version;
    try {
      const { predictions, features, outputs } = !(instances instanceof FlatRows)
        ? await runner.predict(instances)
        : runner.predictFlat
          ? await runner.predictFlat(instances)
          : await runner.predict(instances.toRows());
      const latencyMs = performance.now() - started;
      const { ids, head, first } = fastIdRun(predictions.length);
      // With the outputs' numbers, the log's writer thread makes their text; else it is made here.
      const json = outputs ? null : JSON.stringify(predictions);
      // One object per request, whatever its size: the log makes the rows off the request path.
      this.options.logger.addRequest(
        {
          project: e.project,
          endpoint: e.name,
          model: e.model,
          version,
          slot,
          requestId,
          at,
          latencyMs,
          ids,
          idRun: { head, first },
          features,
          outputs: outputs ?? json,
          error: null,
        },
        false,
      );
      this.metrics?.observe(
        { project: e.project, endpoint: e.name, version: String(version), slot, outcome: "ok" },
        latencyMs / 1000,
      );
      return { ok: true, predictions, json, ids };
    } catch (error) {
      const latencyMs = performance.now() - started;
      // Input errors (422) are the caller's, not the model's: they neither count against a canary nor fall back.
      if (error instanceof TandemError && error.code === "UNPROCESSABLE") throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger.addRequest(
        {
          project: e.project,
          endpoint: e.name,
          model: e.model,
          version,
          slot,
          requestId,
          at,
          latencyMs,
          ids: [newId()],
          features: [{}],
          outputs: null,
          error: message.slice(0, 500),
        },
        true,
      );
      this.metrics?.observe(
        { project: e.project, endpoint: e.name, version: String(version), slot, outcome: "error" },
        latencyMs / 1000,
      );
      return {
        ok: false,
        error: new TandemError(
          "INTERNAL",
          `model ${e.model}@${version} failed: ${message.split("\n")[0]!.slice(0, 300)}`,
        ),
      };
    }
  }

  /** Stops serving: releases every runner once its queue drains. */
  async close(): Promise<void> {
    const runners = [...this.leases.values()].map((l) => l.runner);
    this.leases.clear();
    this.live.clear();
    await Promise.all(runners.map((r) => r.close()));
  }
}
