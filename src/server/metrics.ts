import {
  Counter,
  Registry,
  collectDefaultMetrics,
  type LabelValues,
  type Metric,
  type MetricObjectWithValues,
  type MetricType,
  type MetricValueWithName,
} from "prom-client";

/**
 * A prom-client counter for the request path: counted in a plain number per label set, handed to
 * prom-client when /metrics is read (its collect hook). prom-client 15's bound children call back
 * into the parent with their labels, which it validates and hashes on every inc; for two counters
 * per prediction request that was ~1.5% of a 1-row serving process's event loop.
 */
export class ScrapedCounter<L extends string> {
  private readonly pending = new Map<string, { labels: LabelValues<L>; count: number }>();
  readonly counter: Counter<L>;

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }) {
    const flush = () => this.flush();
    this.counter = new Counter<L>({
      ...config,
      collect() {
        flush();
      },
    });
  }

  /** Counts one; `key` names the label set (cheaper for the caller to build than the labels object). */
  inc(key: string, labels: () => LabelValues<L>): void {
    let entry = this.pending.get(key);
    if (!entry) {
      // Unmatched URLs and retired versions come and go: the bound only guards against surprises.
      if (this.pending.size >= 5000) {
        this.flush();
        this.pending.clear();
      }
      entry = { labels: labels(), count: 0 };
      this.pending.set(key, entry);
    }
    entry.count++;
  }

  private flush(): void {
    for (const entry of this.pending.values()) {
      if (entry.count === 0) continue;
      this.counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}

interface Series<L extends string> {
  labels: LabelValues<L>;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram for the request path: observations counted in plain arrays per label set, shown to
 * the registry as a histogram of the same name, buckets and lines as prom-client's own (metrics.test
 * compares the text). prom-client 15's bound child copies, validates and hashes its labels on every
 * observe: ~0.5 µs each, and a prediction request made two (microbenchmark, load 9).
 */
export class FastHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly buckets: number[];
  private readonly labelNames: readonly L[];
  private readonly series = new Map<string, Series<L>>();

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: number[];
    registers: Registry[];
  }) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    this.buckets = [...config.buckets].sort((a, b) => a - b);
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /**
   * An observer of one label set (bind it once: finding the set hashes its labels). The set appears
   * in /metrics from its first observation, as with prom-client.
   */
  labels(labels: LabelValues<L>): { observe(value: number): void } {
    const key = this.labelNames.map((n) => String(labels[n] ?? "")).join("\u0000");
    const buckets = this.buckets;
    let s: Series<L> | undefined;
    return {
      observe: (value: number) => {
        if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
        if (!s) {
          s = this.series.get(key);
          if (!s) {
            s = { labels: { ...labels }, counts: new Float64Array(buckets.length + 1), sum: 0, count: 0 };
            this.series.set(key, s);
          }
        }
        let i = 0;
        while (i < buckets.length && value > buckets[i]!) i++;
        s.counts[i]!++;
        s.sum += value;
        s.count++;
      },
    };
  }

  /** What prom-client's registry reads: buckets (cumulative, then +Inf), sum and count per label set. */
  get(): Promise<Omit<MetricObjectWithValues<MetricValueWithName<string>>, "collect">> {
    const values: Array<MetricValueWithName<string>> = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts[i]!;
        // `le` first, as prom-client writes it.
        const le = i < this.buckets.length ? this.buckets[i]! : "+Inf";
        values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: "histogram" as unknown as MetricType,
      values,
      aggregator: "sum",
    });
  }

  reset(): void {
    this.series.clear();
  }
}

/**
 * One Prometheus registry per app (tests run many apps in one process). Areas register their own
 * gauges and counters on `registry`.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: ScrapedCounter<"method" | "route" | "status">;
  readonly duration: FastHistogram<"method" | "route">;

  constructor() {
    // Process and runtime metrics keep their standard names (process_cpu_seconds_total,
    // nodejs_eventloop_lag_seconds, …), which stock Node.js and process dashboards query.
    collectDefaultMetrics({ register: this.registry });
    this.requests = new ScrapedCounter({
      name: "tandem_http_requests_total",
      help: "HTTP requests by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      registers: [this.registry],
    });
    this.duration = new FastHistogram({
      name: "tandem_http_request_duration_seconds",
      help: "HTTP request latency by method and route pattern.",
      labelNames: ["method", "route"],
      // Serving answers in about a millisecond; pipelines' API calls in tens: buckets cover both.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  countRequest(method: string, route: string, status: number): void {
    this.requests.inc(`${method} ${route} ${status}`, () => ({ method, route, status: String(status) }));
  }
}
