/**
 * The serving area: endpoint service and controller, the runtime that answers predictions, the
 * prediction log, /metrics, and the loops `tandem server` / `tandem serve` run.
 */
import { join } from "node:path";
import { Counter } from "prom-client";
import { EndpointController } from "../core/serving/controller.js";
import type { ModelSelector, ServingEvent } from "../core/serving/model.js";
import type { ModelResolver, ServableVersion, ServingAlertSink } from "../core/serving/ports.js";
import { PredictionLogger } from "../core/serving/prediction-log.js";
import { ServingRuntime, type ServingMetrics } from "../core/serving/runtime.js";
import { EndpointService } from "../core/serving/service.js";
import { ServingGovernanceFacts } from "../core/serving/governance-facts.js";
import { ConflictError, NotFoundError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { RegistryService } from "../core/registry/service.js";
import type { ModelVersion } from "../core/registry/model.js";
import type { DeploymentCheck } from "../core/registry/promotion.js";
import { FastHistogram, ScrapedCounter, type ServerMetrics } from "../server/metrics.js";
import { serverExtensions } from "../server/server.js";
import type { Services } from "../server/services.js";
import { ArtifactRunnerFactory } from "../serving/runner-factory.js";
import { SqlPredictionLogStore } from "../stores/metadata/prediction-log-store.js";
import { SqlServingStore } from "../stores/metadata/serving-store.js";
import type { Wiring } from "./kit.js";
import { PromptAwareResolver, PromptAwareRunnerFactory } from "./llm.js";
import { runLoop } from "../server/background.js";
import type { Logger } from "../core/logger.js";

export interface ServingArea {
  endpoints: EndpointService;
  controller: EndpointController;
  runtime: ServingRuntime;
  logger: PredictionLogger;
  log: SqlPredictionLogStore;
  /** Where critical events (SLO breaches) go besides the event table. Monitoring replaces it to raise alerts. */
  alertSink: ServingAlertSink;
  /** Followers of aliases and canary records, for the registry's policies. */
  facts: ServingGovernanceFacts;
  settings: ServingSettings;
}

export interface ServingSettings {
  /** Controller tick: alias follow, SLO judgement, ms (default 1 000). */
  controllerMs: number;
  /** Prediction log retention, ms (default 30 days). */
  retentionMs: number;
  /** How often old log rows are dropped, ms (default 1 h). */
  retentionSweepMs: number;
}

declare module "../server/services.js" {
  interface Services {
    serving: ServingArea;
  }
}

function toServable(v: ModelVersion): ServableVersion {
  const format = v.artifact.format;
  if (format === "other")
    throw new ConflictError(
      `${v.modelName}@${v.version} cannot be served: it was registered as format "other" (no MLmodel, MODEL.json or ONNX file in it); it stays downloadable`,
      { model: v.modelName, version: v.version, format },
    );
  return {
    model: v.modelName,
    version: v.version,
    format,
    storage: v.artifact.storage,
    sha256: v.artifact.sha256,
    fileName: v.artifact.storage === "tree" ? v.artifact.fileName : null,
    signature: v.signature.model ?? null,
    gitCommit: v.lineage.gitCommit,
  };
}

/** The Registry as Serving's ModelResolver (looked up lazily: wiring order does not matter). */
export class RegistryModelResolver implements ModelResolver {
  constructor(private readonly services: Services) {}

  private get registry(): RegistryService {
    const registry = (this.services as Services & { registry?: RegistryService }).registry;
    if (!registry) throw new NotFoundError("the model registry is not available in this server");
    return registry;
  }

  async resolve(project: string, model: string, selector: ModelSelector): Promise<ServableVersion> {
    const ref = selector.kind === "alias" ? `${model}@${selector.alias}` : `${model}@${selector.version}`;
    return toServable(await this.registry.resolve(project, ref));
  }

  checkDeployment(input: DeploymentCheck): Promise<void> {
    return this.registry.checkDeployment(input);
  }

  async rollbackAlias(input: Parameters<ModelResolver["rollbackAlias"]>[0]): Promise<void> {
    await this.registry.rollbackAlias(input);
  }

  checkEndpointRollback(input: Parameters<ModelResolver["checkEndpointRollback"]>[0]): Promise<void> {
    return this.registry.checkEndpointRollback(input);
  }

  async promoteAlias(input: {
    project: string;
    model: string;
    alias: string;
    version: number;
    actor: string;
    policy: string | null;
  }): Promise<void> {
    await this.registry.setAlias({
      actor: input.actor,
      project: input.project,
      ref: `${input.model}@${input.version}`,
      alias: input.alias,
      policy: input.policy,
    });
  }

  previousAliasVersion(project: string, model: string, alias: string): Promise<number | null> {
    return this.registry.previousAliasVersion(project, model, alias);
  }
}

/** prom-client metrics per endpoint, version and slot, on the app's registry. */
export function promServingMetrics(metrics: ServerMetrics): ServingMetrics {
  const requests = new ScrapedCounter({
    name: "tandem_serving_requests_total",
    help: "Prediction requests by endpoint, model version, slot (primary, canary, shadow) and outcome.",
    labelNames: ["project", "endpoint", "version", "slot", "outcome"],
    registers: [metrics.registry],
  });
  const latency = new FastHistogram({
    name: "tandem_serving_latency_seconds",
    help: "Model latency per request (queueing, batching and inference) by endpoint, version and slot.",
    labelNames: ["project", "endpoint", "version", "slot"],
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics.registry],
  });
  // Histogram series bound once per label set (no labels object per observe); the request count is
  // a ScrapedCounter, which prom-client sees only when /metrics is read.
  const bound = new Map<string, { time: (seconds: number) => void }>();
  return {
    observe(labels, seconds) {
      const key = `${labels.project}\u0000${labels.endpoint}\u0000${labels.version}\u0000${labels.slot}\u0000${labels.outcome}`;
      requests.inc(key, () => ({ ...labels }));
      let child = bound.get(key);
      if (!child) {
        const histogram =
          labels.outcome === "ok"
            ? latency.labels({
                project: labels.project,
                endpoint: labels.endpoint,
                version: labels.version,
                slot: labels.slot,
              })
            : null;
        child = { time: (s) => histogram?.observe(s) };
        // Versions come and go; a long-lived server must not keep every one it ever served.
        if (bound.size >= 1000) bound.clear();
        bound.set(key, child);
      }
      child.time(seconds);
    },
  };
}

const mountServingMetrics = (_app: unknown, services: Services, metrics: ServerMetrics) => {
  if (!services.serving) return;
  services.serving.runtime.metrics = promServingMetrics(metrics);
  const logger = services.serving.logger;
  new Counter({
    name: "tandem_prediction_log_dropped_total",
    help: "Answers the prediction log dropped because the database fell behind (requests never wait for it).",
    registers: [metrics.registry],
    collect() {
      this.reset();
      this.inc(logger.dropped);
    },
  });
};

/** Starts the serving loops: change-counter poll, controller ticks, retention sweeps. */
export function startServingLoops(
  area: ServingArea,
  signal: AbortSignal,
  only: ReadonlySet<string> | undefined,
  log: Logger,
): void {
  void area.runtime.sync(true).catch((error: unknown) => log.error({ err: error }, "loading the endpoints failed"));
  runLoop({ name: "serving-sync", intervalMs: area.runtime.pollMs, tick: () => area.runtime.sync() }, signal, log);
  runLoop(
    {
      name: "serving-controller",
      intervalMs: area.settings.controllerMs,
      tick: () => area.controller.tick(only),
      report: (events, log) => {
        for (const e of events) {
          const fields = { project: e.project, endpoint: e.endpoint, event: e.kind, deployment_id: e.deploymentId };
          log[e.severity === "critical" || e.severity === "warning" ? "warn" : "info"](fields, e.message);
        }
      },
    },
    signal,
    log,
  );
  runLoop(
    {
      name: "prediction-retention",
      intervalMs: area.settings.retentionSweepMs,
      tick: () => area.log.deleteBefore(Date.now() - area.settings.retentionMs),
      report: (deleted, log) => {
        if (deleted > 0) log.info({ predictions: deleted }, "deleted predictions past their retention");
      },
    },
    signal,
    log,
  );
}

export const wireServing: Wiring = ({ config, sql, services }) => {
  const store = new SqlServingStore(sql);
  const log = new SqlPredictionLogStore(sql);
  const resolver = new PromptAwareResolver(new RegistryModelResolver(services), services);
  const area = {} as ServingArea;
  let alertedAt = 0;
  const logger = new PredictionLogger(log, {
    // A database too slow for the answers: the log drops past its bound (requests never wait), and
    // says so at most once a minute as a critical serving event (an alert with monitoring wired).
    onDrop: (_count, example) => {
      const now = Date.now();
      if (!example || now - alertedAt < 60_000) return;
      alertedAt = now;
      const event: ServingEvent = {
        id: newId(),
        project: example.project,
        endpoint: example.endpoint,
        at: now,
        kind: "log_dropped",
        severity: "critical",
        message: `the prediction log dropped ${logger.dropped} answers so far: the database does not keep up with the answers`,
        deploymentId: null,
        details: { dropped: logger.dropped },
      };
      void Promise.resolve()
        .then(() => area.alertSink(event))
        .catch(() => undefined);
    },
  });
  const keepEvent: ServingAlertSink = (_event: ServingEvent) => undefined;
  area.alertSink = keepEvent;
  const controller = new EndpointController({
    metadata: services.metadata,
    audit: services.audit,
    store,
    log,
    resolver,
    alertSink: () => area.alertSink,
  });
  const factory = new ArtifactRunnerFactory(services.artifacts, join(config.home, "serving", "models"), {
    onnx: { batchWindowMs: config.servingBatchWindowMs },
    mlflow: config.mlflowServe,
    launcher: services.userCode,
  });
  const runtime = new ServingRuntime({
    store,
    resolver,
    factory: new PromptAwareRunnerFactory(factory),
    logger,
    pollMs: 250,
  });
  Object.assign(area, {
    endpoints: new EndpointService(services.metadata, services.audit, store, resolver, controller, (v) =>
      factory.preflight(v),
    ),
    facts: new ServingGovernanceFacts(store, log),
    controller,
    runtime,
    logger,
    log,
    settings: {
      controllerMs: 1000,
      retentionMs: config.predictionRetentionDays * 86_400_000,
      retentionSweepMs: 3_600_000,
    },
  });
  services.serving = area;
  // `tandem apply` deploys the spec's `endpoints:` (policies checked; unchanged ones untouched), and
  // a serving process loads them before it answers, so a call right after apply finds its endpoint
  // (other processes on the database load it on their next poll, or at its first call there). A
  // load failure is not the apply's: it is shown to callers, as the loop would show it.
  const pipelines = (services as Partial<Services>).pipelines;
  pipelines?.specs.listeners.push(async (actor, project, spec) => {
    await area.endpoints.applySpec(actor, project, spec.endpoints ?? {});
    await runtime.syncIfServing()?.catch(() => undefined);
  });
  services.background.push({
    name: "serving",
    start: (signal, log) => startServingLoops(area, signal, runtime.only ?? undefined, log),
  });
  // Logger first, runtime after: queued answers are written before the models go.
  services.closers.push(async () => {
    await runtime.close();
    await logger.close();
    await log.close();
  });
  if (!serverExtensions.includes(mountServingMetrics)) serverExtensions.push(mountServingMetrics);
};
