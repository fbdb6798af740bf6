import type { Tx } from "../../ports.js";
import type { Table } from "../columns.js";
import type { MonitorDefinition, MonitorResult, MonitorState } from "./model.js";
import type { WindowRow } from "./window.js";

export interface MonitorStore {
  upsert(definition: MonitorDefinition, nextRunAt: number | null, tx?: Tx): Promise<void>;
  remove(project: string, name: string, tx?: Tx): Promise<boolean>;
  list(project: string, tx?: Tx): Promise<MonitorState[]>;
  get(project: string, name: string, tx?: Tx): Promise<MonitorState | null>;
  /** Scheduled monitors due at `now`, across projects. */
  due(now: number, limit: number, tx?: Tx): Promise<MonitorState[]>;
  /**
   * Moves a monitor's next run from `expected` to `next` only if nobody else did (compare-and-set),
   * so of several servers exactly one runs each tick.
   */
  claim(project: string, name: string, expected: number, next: number | null, tx?: Tx): Promise<boolean>;
  insertResult(result: MonitorResult, tx?: Tx): Promise<void>;
  /** Links a stored result to the alert it raised (set after the alert, which cites the result). */
  setResultAlert(project: string, id: string, alertId: string, tx?: Tx): Promise<void>;
  results(
    project: string,
    name: string,
    options: { limit: number; before?: number },
    tx?: Tx,
  ): Promise<MonitorResult[]>;
  getResult(project: string, id: string, tx?: Tx): Promise<MonitorResult | null>;
}

/** The rows of one window of traffic, and how many it held. */
export interface TrafficWindow {
  /** In time order: every row, or a uniform sample of `limit` of them when the window held more. */
  rows: WindowRow[];
  /** How many rows the window held; more than `rows.length` when it was sampled. */
  total: number;
}

/** A logged row as the log holds it: its JSON values as their stored text, for readers that copy them. */
export interface LoggedRowText {
  /** The prediction id. */
  id: string;
  at: number;
  /** The features object's JSON text. */
  features: string;
  /** The answer's JSON text; null on error. */
  output: string | null;
  error: string | null;
  latencyMs: number;
  /** The true label's JSON text from feedback; null when none arrived (yet). */
  label: string | null;
}

/** An endpoint's logged traffic, with feedback labels joined, in time order. */
export interface TrafficSource {
  /**
   * Every row of [start, end) in time order (then by id), page by page, its JSON unparsed: a reader
   * that copies the rows (traffic export) never holds the window at once.
   */
  scan(project: string, endpoint: string, start: number, end: number): AsyncIterable<LoggedRowText[]>;
  /**
   * The rows of [start, end). A window with more than `limit` rows is sampled uniformly (reservoir
   * sampling, seeded by the window, so a rerun reads the same sample): never only its oldest rows.
   */
  window(project: string, endpoint: string, start: number, end: number, limit: number): Promise<TrafficWindow>;
}

/** Reads a reference (or a dataset monitor's current data) into columns: `dataset://name@version`. */
export interface ReferenceSource {
  load(project: string, reference: string): Promise<Table>;
}

/** A project's traces as monitor rows (one per trace: its duration, status, tokens and cost). */
export interface TraceStreamSource {
  /** Traces started in [start, end), only those calling `model` when given; sampled above `limit`. */
  window(project: string, model: string | null, start: number, end: number, limit: number): Promise<TrafficWindow>;
}
