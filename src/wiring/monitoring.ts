import { Gauge } from "prom-client";
import { SYSTEM_USER } from "../core/governance/model.js";
import type { Alert } from "../core/monitoring/alerts/model.js";
import { AlertService } from "../core/monitoring/alerts/service.js";
import { everyInterval } from "../server/background.js";
import { serverExtensions } from "../server/server.js";
import { SqlAlertStore } from "../stores/metadata/alert-store.js";
import { FetchWebhookSender } from "../stores/http/webhook-sender.js";
import { join } from "node:path";
import { MonitorService } from "../core/monitoring/monitors/service.js";
import { monitorDefinition } from "../core/monitoring/monitors/definition.js";
import { problemOf } from "../core/pipelines/spec-area-checks.js";
import { TrafficExporter } from "../core/monitoring/traffic-export.js";
import { DatasetReferenceSource } from "../stores/artifacts/dataset-reference-source.js";
import { LocalBlobFiles } from "../stores/artifacts/blob-files.js";
import { SqlMonitorStore, SqlTrafficSource } from "../stores/metadata/monitor-store.js";
import type { Services } from "../server/services.js";
import type { Wiring } from "./kit.js";

declare module "../server/services.js" {
  interface Services {
    monitors: MonitorService;
  }
}

/** Alerts (and, in monitors.ts, monitors): services, delivery and trigger loops, and /metrics gauges. */
export const wireMonitoring: Wiring = ({ config, sql, services }) => {
  const alerts = new AlertService({
    metadata: sql,
    store: new SqlAlertStore(sql),
    audit: services.audit,
    sender: new FetchWebhookSender(services.outbound),
    outbound: services.outbound,
    externalUrl: () => services.config.serverUrl ?? `http://${services.config.host}:${services.config.port}`,
    log: services.logger.child({ area: "alerts" }),
  });
  services.alerts = alerts;
  // The closed loop: a newly firing alert starts the pipelines whose `triggers:` name it, once per alert
  // (the alert id is the idempotency key, so a retry after a crash never starts a second run).
  alerts.triggerSink = {
    alertFired: async (alert) => {
      await services.pipelineTriggers.fire(
        "alert",
        alert.project,
        alert.name,
        { alert_id: alert.id, alert: alert.name, labels: alert.labels, evidence: alert.evidence },
        `alert:${alert.id}`,
      );
    },
  };
  // A canary that broke its SLO (serving rolled it back) raises an alert named `<endpoint>-canary-slo`;
  // a prediction log that dropped answers (database too slow) one named `prediction-log-dropping`.
  if (services.serving) {
    services.serving.alertSink = async (event) => {
      await alerts.report(SYSTEM_USER, {
        project: event.project,
        name: event.kind === "log_dropped" ? "prediction-log-dropping" : `${event.endpoint}-canary-slo`,
        source: "serving",
        status: "firing",
        severity: event.severity,
        labels: { endpoint: event.endpoint, kind: event.kind },
        annotations: { summary: event.message },
        evidence: { serving_event_id: event.id, deployment_id: event.deploymentId, ...event.details },
        at: event.at,
      });
    };
  }
  // Notifications every second; a receiver that is down is retried with exponential backoff.
  services.background.push(
    everyInterval({ name: "alert-delivery", intervalMs: 1000, tick: () => alerts.deliverDue() }),
  );
  // A process that died between firing an alert and starting its pipelines leaves it untriggered.
  services.background.push(
    everyInterval({
      name: "alert-trigger-sweep",
      intervalMs: 5000,
      tick: async () => {
        const swept: Alert[] = [];
        await alerts.sweepUntriggered(swept);
        return swept;
      },
      report: (swept, log) => {
        for (const a of swept)
          log.info(
            { project: a.project, alert: a.name, alert_id: a.id },
            "started the pipelines of an alert left untriggered",
          );
      },
    }),
  );

  const monitors = new MonitorService({
    metadata: sql,
    store: new SqlMonitorStore(sql),
    audit: services.audit,
    alerts,
    traffic: new SqlTrafficSource(sql),
    artifacts: services.artifacts,
    log: services.logger.child({ area: "monitor-scheduler" }),
    references: new DatasetReferenceSource(
      () => services.data,
      new LocalBlobFiles(services.artifacts, join(config.home, "tmp")),
    ),
  });
  services.monitors = monitors;
  services.trafficExport = new TrafficExporter(new SqlTrafficSource(sql), services.artifacts, () => services.data);
  // `tandem validate` and `apply` alike refuse a monitor whose definition does not hold (a `latency: {}`
  // without its p95_ms), at the field's file:line:column.
  // Pipelines may be left out of a scoped app (an embedded `alerts ls`): then no spec is applied here.
  const pipelines = (services as Partial<Services>).pipelines;
  pipelines?.specs.checkers.push(async (spec, { project }) =>
    Promise.resolve(
      Object.entries(spec.monitors ?? {}).flatMap(([name, raw]) => {
        try {
          monitorDefinition(project, name, raw);
          return [];
        } catch (error) {
          const problem = problemOf(["monitors", name], error);
          if (!problem) throw error;
          return [problem];
        }
      }),
    ),
  );
  // `tandem apply` defines the project's monitors from the spec's `monitors:`.
  pipelines?.specs.listeners.push((actor, project, spec) =>
    monitors.applySpec(actor, project, spec.monitors ?? {}).then(() => undefined),
  );
  // Cron schedules have minute resolution; checking every 5 s keeps a run within seconds of its tick.
  services.background.push(
    everyInterval({
      name: "monitor-scheduler",
      intervalMs: 5000,
      tick: () => monitors.tick(),
      report: (results, log) => {
        for (const r of results) {
          const fields = {
            project: r.project,
            monitor: r.monitor,
            result_id: r.id,
            status: r.status,
            alert_id: r.alertId,
          };
          if (r.status === "failing") log.warn(fields, "monitor found a problem");
          else log.info(fields, "monitor ran");
        }
      },
    }),
  );
};

serverExtensions.push((_app, services, metrics) => {
  new Gauge({
    name: "tandem_alerts_firing",
    help: "Alerts currently firing, by project, alert name and severity.",
    labelNames: ["project", "alertname", "severity"],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const row of await services.alerts.firingCounts()) {
        this.set({ project: row.project, alertname: row.name, severity: row.severity }, row.count);
      }
    },
  });
});

/**
 * Drift, performance and status of each monitor's newest window, as Prometheus gauges. prom-client
 * collects gauges concurrently, so each one awaits one shared refresh per scrape.
 */
serverExtensions.push((_app, services, metrics) => {
  const registers = [metrics.registry];
  const labelNames = ["project", "monitor"];
  let refreshing: Promise<void> | null = null;
  let refreshedAt = 0;
  const refreshOnce = (): Promise<void> => {
    if (!refreshing || Date.now() - refreshedAt > 500) {
      refreshedAt = Date.now();
      refreshing = refresh();
    }
    return refreshing;
  };
  const collect = async () => refreshOnce();
  const status = new Gauge({
    name: "tandem_monitor_failing",
    help: "1 when the monitor's newest window failed a check.",
    labelNames,
    registers,
    collect,
  });
  const share = new Gauge({
    name: "tandem_monitor_drift_share",
    help: "Share of drifted features in the newest window.",
    labelNames,
    registers,
    collect,
  });
  const feature = new Gauge({
    name: "tandem_monitor_feature_drift_statistic",
    help: "Per-feature drift statistic (p-value or distance, see the test label) in the newest window.",
    labelNames: [...labelNames, "feature", "test"],
    registers,
    collect,
  });
  const performance = new Gauge({
    name: "tandem_monitor_performance",
    help: "The performance check's metric on the newest window's labelled traffic.",
    labelNames: [...labelNames, "metric"],
    registers,
    collect,
  });
  async function refresh(): Promise<void> {
    const values: Array<() => void> = [];
    for (const project of await services.access.listProjects()) {
      for (const state of await services.monitors.list(project.name)) {
        const [latest] = await services.monitors.results(project.name, state.definition.name, { limit: 1 });
        if (!latest) continue;
        const key = { project: project.name, monitor: state.definition.name };
        values.push(() => status.set(key, latest.status === "failing" ? 1 : 0));
        for (const check of latest.checks) {
          const d = check.details;
          if (check.check === "data_drift" && typeof d.share_drifted === "number") {
            const v = d.share_drifted;
            values.push(() => share.set(key, v));
            for (const c of (d.columns as Array<{ name: string; test: string; statistic: number }>) ?? []) {
              values.push(() => feature.set({ ...key, feature: c.name, test: c.test }, c.statistic));
            }
          }
          if (check.check === "performance" && typeof d.value === "number") {
            const v = d.value;
            values.push(() => performance.set({ ...key, metric: String(d.metric) }, v));
          }
        }
      }
    }
    // Reset and set together, after all reads, so a scrape never sees half-filled gauges.
    for (const g of [status, share, feature, performance]) g.reset();
    for (const set of values) set();
  }
});
