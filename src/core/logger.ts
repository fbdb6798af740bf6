/**
 * The log port. Domain services and background loops log through it; the server gives them
 * Fastify's pino logger (src/server/logging.ts), tests and the embedded CLI may give `silentLogger`.
 * Fields are snake_case ids (`project`, `run_id`, `monitor`, `alert_id`, …); messages are short
 * sentences without the ids, so a log search filters on fields.
 */
export interface LogFn {
  (fields: object, message: string): void;
  (message: string): void;
}

export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  /** A logger whose every line carries `bindings` (e.g. `{ area: "monitor-scheduler" }`). */
  child(bindings: Record<string, unknown>): Logger;
}

const ignore = () => undefined;

export const silentLogger: Logger = {
  error: ignore,
  warn: ignore,
  info: ignore,
  debug: ignore,
  child: () => silentLogger,
};
