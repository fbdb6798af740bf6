import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * One Prometheus registry per app (tests run many apps in one process). Areas register their own
 * gauges and counters on `registry`.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"method" | "route" | "status">;
  readonly duration: Histogram<"method" | "route">;

  constructor() {
    // Process and runtime metrics keep their standard names (process_cpu_seconds_total,
    // nodejs_eventloop_lag_seconds, …), which stock Node.js and process dashboards query.
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
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

  private readonly requestCounters = new Map<string, { inc(): void }>();

  /** Counts one request; the labelled child is kept, as prom-client would hash the labels every time. */
  countRequest(method: string, route: string, status: number): void {
    const key = `${method} ${route} ${status}`;
    let counter = this.requestCounters.get(key);
    if (!counter) {
      counter = this.requests.labels({ method, route, status: String(status) });
      // Unmatched URLs all share the route "unmatched"; the bound only guards against surprises.
      if (this.requestCounters.size >= 5000) this.requestCounters.clear();
      this.requestCounters.set(key, counter);
    }
    counter.inc();
  }
}
