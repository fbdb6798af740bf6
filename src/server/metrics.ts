import { Counter, Histogram, Registry, collectDefaultMetrics, type LabelValues } from "prom-client";

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

/**
 * One Prometheus registry per app (tests run many apps in one process). Areas register their own
 * gauges and counters on `registry`.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: ScrapedCounter<"method" | "route" | "status">;
  readonly duration: Histogram<"method" | "route">;

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
    this.duration = new Histogram({
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
