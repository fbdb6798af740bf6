/**
 * Monitors: defined from tandem.yaml (`tandem apply`) or the API, run on their cron schedule by any
 * server (a compare-and-set claim makes exactly one run each tick) and on demand. Each run checks one
 * window against the reference, stores one result, and raises or resolves the alert named after the
 * monitor — which can start pipelines (the closed loop).
 */
import { InvalidInputError, NotFoundError } from "../../errors.js";
import type { AuditLog } from "../../governance/audit.js";
import { audited } from "../../governance/audited.js";
import { SYSTEM_USER } from "../../governance/model.js";
import { newId, nowMs } from "../../ids.js";
import type { MetadataStore } from "../../ports.js";
import type { AlertService } from "../alerts/service.js";
import type { Table } from "../columns.js";
import type { ArtifactStore } from "../../artifacts/ports.js";
import { mergeProfiles, profileTable } from "../../data/profile/builder.js";
import type { TableProfile } from "../../data/profile/model.js";
import { runCheck } from "./checks.js";
import { runSampledEval, type CallScorer } from "./llm-checks.js";
import { runProfileCheck } from "./profile-checks.js";
import { MAX_WINDOW_ROWS, monitorDefinition, nextRunAfter, parseDuration } from "./definition.js";
import type { CheckResult, MonitorDefinition, MonitorResult, MonitorState, WindowSampling } from "./model.js";
import type { MonitorStore, ReferenceSource, TraceStreamSource, TrafficSource } from "./ports.js";
import { PREDICTION, TARGET, windowData, type WindowData, type WindowRow } from "./window.js";
import type { Logger } from "../../logger.js";

/** Without `window:` a run checks the traffic since the previous run, but never more than this. */
export const DEFAULT_MAX_WINDOW_MS = 24 * 3_600_000;
/** Windows longer than this merge stored per-run profiles instead of rereading every row (per monitor: raw_window_max). */
export const RAW_WINDOW_MAX_MS = 24 * 3_600_000;

interface CurrentWindow {
  /** The rows read: the whole window, or (long windows) only those after the last stored profile. */
  window: WindowData;
  /** The rows read (for checks that need each call, such as sampled_eval). */
  rows: WindowRow[];
  reference: Table | null;
  start: number;
  profiled: { current: TableProfile; reference: TableProfile; windows: number } | null;
  profileSha: string | null;
  profileStart?: number;
  sampled: WindowSampling | null;
}

export interface MonitorServiceOptions {
  metadata: MetadataStore;
  store: MonitorStore;
  audit: AuditLog;
  alerts: AlertService;
  traffic: TrafficSource;
  references: ReferenceSource;
  /** Where window profiles are kept (content-addressed JSON). */
  artifacts: ArtifactStore;
  /** Where scheduled runs that fail are logged (default: nowhere). */
  log?: Logger;
}

/**
 * A dataset's rows as the labelled-window checks read them: its `columns.target` (and `prediction`)
 * also under the names traffic's labels carry (TARGET, PREDICTION). Without this, target_drift,
 * performance and fairness of a dataset monitor found no labels and were skipped.
 */
function datasetLabels(table: Record<string, unknown[]>, def: MonitorDefinition): Record<string, unknown[]> {
  // No prototype, as the table's (windowData): Object.assign keeps a column `__proto__` as its own.
  const labelled = Object.assign(Object.create(null) as Record<string, unknown[]>, table);
  const target = table[def.roles.target ?? TARGET];
  const prediction = table[def.roles.prediction ?? PREDICTION];
  if (target) labelled[TARGET] = target;
  if (prediction) labelled[PREDICTION] = prediction;
  return labelled;
}

export class MonitorService {
  /** Set by the LLM wiring: what runs sampled_eval's scorers, and the trace streams (null: not available). */
  callScorer: CallScorer | null = null;
  traceStreams: TraceStreamSource | null = null;

  constructor(private readonly o: MonitorServiceOptions) {}

  /** Replaces a project's monitors with those of an applied spec (monitors no longer listed are removed). */
  async applySpec(actor: string, project: string, monitors: Record<string, unknown>): Promise<MonitorDefinition[]> {
    const definitions = Object.entries(monitors).map(([name, raw]) => monitorDefinition(project, name, raw));
    const now = nowMs();
    await audited(this.o.metadata, this.o.audit, async (tx, record) => {
      const existing = await this.o.store.list(project, tx);
      for (const old of existing) {
        if (!definitions.some((d) => d.name === old.definition.name)) {
          await this.o.store.remove(project, old.definition.name, tx);
          await record({ actor, project, action: "monitor.remove", target: `monitor:${old.definition.name}` });
        }
      }
      for (const d of definitions) {
        const before = existing.find((e) => e.definition.name === d.name);
        if (before && JSON.stringify(before.definition) === JSON.stringify(d)) continue;
        await this.o.store.upsert(d, nextRunAfter(d, now), tx);
        await record({
          actor,
          project,
          action: before ? "monitor.update" : "monitor.create",
          target: `monitor:${d.name}`,
          summary: {
            endpoint: d.endpoint,
            dataset: d.dataset,
            schedule: d.schedule,
            checks: d.checks.map((c) => c.kind),
          },
        });
      }
    });
    return definitions;
  }

  /** Defines or replaces one monitor. */
  async define(actor: string, project: string, name: string, raw: unknown): Promise<MonitorDefinition> {
    const d = monitorDefinition(project, name, raw);
    await audited(this.o.metadata, this.o.audit, async (tx, record) => {
      await this.o.store.upsert(d, nextRunAfter(d, nowMs()), tx);
      await record({ actor, project, action: "monitor.define", target: `monitor:${name}` });
    });
    return d;
  }

  async remove(actor: string, project: string, name: string): Promise<void> {
    await audited(this.o.metadata, this.o.audit, async (tx, record) => {
      if (!(await this.o.store.remove(project, name, tx)))
        throw new NotFoundError(`monitor ${name} does not exist in ${project}`);
      await record({ actor, project, action: "monitor.remove", target: `monitor:${name}` });
    });
  }

  list(project: string): Promise<MonitorState[]> {
    return this.o.store.list(project);
  }

  async get(project: string, name: string): Promise<MonitorState> {
    const state = await this.o.store.get(project, name);
    if (!state) throw new NotFoundError(`monitor ${name} does not exist in ${project}`);
    return state;
  }

  results(project: string, name: string, options: { limit?: number; before?: number } = {}): Promise<MonitorResult[]> {
    return this.o.store.results(project, name, { limit: options.limit ?? 100, before: options.before });
  }

  async result(project: string, id: string): Promise<MonitorResult> {
    const r = await this.o.store.getResult(project, id);
    if (!r) throw new NotFoundError(`monitor result ${id} does not exist in ${project}`);
    return r;
  }

  /** Runs every scheduled monitor that is due; returns the results of the runs this process claimed. */
  async tick(now = nowMs()): Promise<MonitorResult[]> {
    const out: MonitorResult[] = [];
    for (const state of await this.o.store.due(now, 20)) {
      const next = nextRunAfter(state.definition, now);
      const { project, name } = state.definition;
      if (!(await this.o.store.claim(project, name, state.nextRunAt!, next))) continue;
      // One monitor's failure (its reference dataset deleted, say) must not hold up the others due now.
      try {
        out.push(await this.run(SYSTEM_USER, project, name, { windowEnd: now }));
      } catch (error) {
        this.o.log?.error({ project, monitor: name, err: error }, "scheduled monitor run failed");
      }
    }
    return out;
  }

  private async currentWindow(def: MonitorDefinition, end: number): Promise<CurrentWindow> {
    if (def.dataset) {
      const current = await this.o.references.load(def.project, `dataset://${def.dataset}@latest`);
      const table = Object.create(null) as Record<string, unknown[]>;
      for (const [k, v] of Object.entries(current)) table[k] = Array.from(v);
      const rows = Math.max(0, ...Object.values(table).map((c) => c.length));
      const window: WindowData = {
        start: end,
        end,
        rows,
        errors: 0,
        latenciesMs: [],
        table,
        labelled: datasetLabels(table, def),
        llm: { tokens: [], costs: [], feedback: [] },
      };
      const reference = def.reference?.startsWith("dataset://")
        ? await this.o.references.load(def.project, def.reference)
        : null;
      return { window, rows: [], reference, start: end, profiled: null, profileSha: null, sampled: null };
    }
    const traces = def.traces ?? null;
    const endpoint = def.endpoint!;
    const last = (await this.o.store.results(def.project, def.name, { limit: 1 }))[0];
    const start =
      def.windowMs !== null ? end - def.windowMs : Math.max(last?.windowEnd ?? 0, end - DEFAULT_MAX_WINDOW_MS);
    // Long windows merge the stored profiles of earlier runs and read rows only after the last of them.
    const stored =
      def.windowMs !== null && def.windowMs > (def.rawWindowMaxMs ?? RAW_WINDOW_MAX_MS)
        ? await this.storedProfiles(def, start, end)
        : [];
    const readFrom = Math.max(start, stored.at(-1)?.windowEnd ?? start);
    // Definitions stored before `max_rows` existed have none.
    const maxRows = def.maxRows ?? MAX_WINDOW_ROWS;
    const current = traces
      ? await this.traceStream().window(def.project, traces.model, readFrom, end, maxRows)
      : await this.o.traffic.window(def.project, endpoint, readFrom, end, maxRows);
    const window = windowData(readFrom, end, current.rows);
    let sampled: WindowSampling | null =
      current.total > current.rows.length ? { rows: current.rows.length, of: current.total } : null;
    let reference: Table | null = null;
    if (def.reference?.startsWith("dataset://")) {
      reference = await this.o.references.load(def.project, def.reference);
    } else if (def.reference?.startsWith("window:") && !traces) {
      const offset = parseDuration(
        def.reference.slice("window:".length).replace(/^-/, ""),
        `monitors.${def.name}.reference`,
      );
      const earlier = await this.o.traffic.window(def.project, endpoint, start - offset, end - offset, maxRows);
      reference = windowData(start - offset, end - offset, earlier.rows).table;
      if (earlier.total > earlier.rows.length) {
        sampled = {
          ...(sampled ?? { rows: current.rows.length, of: current.total }),
          reference: { rows: earlier.rows.length, of: earlier.total },
        };
      }
    }
    const tailProfile = window.rows > 0 ? profileTable(window.table) : null;
    const profileSha = tailProfile ? (await this.o.artifacts.putBlob(JSON.stringify(tailProfile))).sha256 : null;
    let profiled: CurrentWindow["profiled"] = null;
    if (stored.length > 0 && reference) {
      const parts = await Promise.all(stored.map((r) => this.readProfile(r.profileSha!)));
      const current = mergeProfiles(...parts, ...(tailProfile ? [tailProfile] : []));
      profiled = { current, reference: profileTable(reference), windows: stored.length };
    }
    return { window, rows: current.rows, reference, start, profiled, profileSha, profileStart: readFrom, sampled };
  }

  private traceStream(): TraceStreamSource {
    if (!this.traceStreams) throw new InvalidInputError("this server has no trace store: trace monitors cannot run");
    return this.traceStreams;
  }

  /** Earlier results' profiles that tile [start, end) without overlapping, oldest first. */
  private async storedProfiles(def: MonitorDefinition, start: number, end: number): Promise<MonitorResult[]> {
    const candidates = (await this.o.store.results(def.project, def.name, { limit: 10_000, before: end + 1 }))
      .filter((r) => r.profileSha && r.profileStart !== null && r.profileStart >= start && r.windowEnd <= end)
      .sort((a, b) => a.profileStart! - b.profileStart!);
    const out: MonitorResult[] = [];
    let coveredUntil = start;
    for (const r of candidates) {
      if (r.profileStart! >= coveredUntil) {
        out.push(r);
        coveredUntil = r.windowEnd;
      }
    }
    return out;
  }

  private async readProfile(sha: string): Promise<TableProfile> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.o.artifacts.getBlob(sha)) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as TableProfile;
  }

  /** Runs one monitor now over the window ending at `windowEnd` (default now). */
  async run(
    actor: string,
    project: string,
    name: string,
    options: { windowEnd?: number } = {},
  ): Promise<MonitorResult> {
    const def = (await this.get(project, name)).definition;
    const end = options.windowEnd ?? nowMs();
    const result: MonitorResult = {
      id: newId(),
      project,
      monitor: name,
      windowStart: end,
      windowEnd: end,
      computedFrom: "raw",
      status: "ok",
      rows: 0,
      labelledRows: 0,
      checks: [],
      error: null,
      createdAt: nowMs(),
      alertId: null,
      profileSha: null,
      profileStart: null,
      sampled: null,
    };
    try {
      const { window, rows, reference, start, profiled, profileSha, profileStart, sampled } = await this.currentWindow(
        def,
        end,
      );
      result.windowStart = start;
      result.sampled = sampled;
      result.profileSha = profileSha;
      result.profileStart = profileStart ?? null;
      result.rows = profiled ? profiled.current.rowCount : window.rows;
      result.labelledRows = Math.max(0, ...Object.values(window.labelled).map((c) => c.length));
      if (profiled) result.computedFrom = "profile";
      if (result.rows < def.minRows) {
        result.status = "insufficient_data";
      } else {
        const scored = new Map<number, CheckResult>();
        for (const [i, check] of def.checks.entries())
          if (check.kind === "sampled_eval")
            scored.set(i, await runSampledEval(project, name, check, rows, this.callScorer));
        result.checks = def.checks.map((check, i) => {
          const done = scored.get(i);
          if (done) return done;
          try {
            const fromProfile = profiled ? runProfileCheck(def, check, profiled.reference, profiled.current) : null;
            return fromProfile ?? runCheck(def, check, window, reference);
          } catch (error) {
            if (!(error instanceof InvalidInputError)) throw error;
            return {
              check: check.kind,
              passed: true,
              summary: `skipped: ${error.message}`,
              details: { skipped: error.message },
            } satisfies CheckResult;
          }
        });
        result.status = result.checks.every((c) => c.passed) ? "ok" : "failing";
      }
    } catch (error) {
      result.status = "error";
      result.error = error instanceof Error ? error.message : String(error);
    }
    // The result is stored before the alert that cites it, so whoever follows the alert finds it.
    await audited(this.o.metadata, this.o.audit, async (tx, record) => {
      await this.o.store.insertResult(result, tx);
      await record({
        actor,
        project,
        action: "monitor.run",
        target: `monitor:${name}`,
        summary: {
          result_id: result.id,
          status: result.status,
          rows: result.rows,
          ...(result.sampled ? { sampled: `${result.sampled.rows} of ${result.sampled.of}` } : {}),
        },
      });
    });
    if (result.status === "ok" || result.status === "failing") {
      const failed = result.checks.filter((c) => !c.passed);
      const report = await this.o.alerts.report(SYSTEM_USER, {
        project,
        name,
        source: "monitor",
        status: failed.length ? "firing" : "resolved",
        labels: {
          monitor: name,
          ...(def.endpoint ? { endpoint: def.endpoint } : {}),
          ...(def.dataset ? { dataset: def.dataset } : {}),
          ...(def.traces ? { traces: def.traces.model ?? "*" } : {}),
        },
        annotations: failed.length ? { summary: failed.map((c) => `${c.check}: ${c.summary}`).join("; ") } : {},
        evidence: {
          result_id: result.id,
          window_start: result.windowStart,
          window_end: result.windowEnd,
          failed: failed.map((c) => ({ check: c.check, summary: c.summary })),
        },
      });
      if (failed.length && report.alert) {
        result.alertId = report.alert.id;
        await this.o.store.setResultAlert(project, result.id, report.alert.id);
      }
    }
    return result;
  }
}
