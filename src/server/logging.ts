/**
 * The process's logger: pino (the logger Fastify is built around), one JSON object per line on
 * stderr, or pino-pretty's coloured lines when stderr is a terminal. Every line passes the secret
 * scrubber. `tandem server` logs at TANDEM_LOG_LEVEL (default info); the embedded CLI at
 * TANDEM_LOG_LEVEL too, else `error` only (a failure's stack, never request chatter).
 */
import pino, { type Logger as PinoLogger } from "pino";
import { colorPreference, type Config, type LogFormat, type LogLevel } from "../config.js";
import { LogScrubber, REDACTED, REDACTED_FIELDS } from "./log-scrub.js";

export interface LoggerOptions {
  level: LogLevel;
  /** `json`, `pretty`, or `auto`: pretty when the destination is a terminal (default auto). */
  format?: LogFormat;
  /** Exact secret values to mask wherever they appear. */
  secrets?: Array<string | undefined>;
  /** Where lines go (default stderr). */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Secrets a configuration holds, for the scrubber (tokens and URL passwords are caught by pattern). */
export function configSecrets(config: Config): Array<string | undefined> {
  return [
    config.secretKey,
    config.token,
    config.artifacts.kind === "s3" ? config.artifacts.secretAccessKey : undefined,
  ];
}

/** The logger of a process with this configuration; `defaultLevel` where TANDEM_LOG_LEVEL is unset. */
export function loggerFor(config: Config, defaultLevel: LogLevel): Promise<PinoLogger> {
  return createLogger({
    level: config.logLevel ?? defaultLevel,
    format: config.logFormat,
    secrets: configSecrets(config),
  });
}

export async function createLogger(options: LoggerOptions): Promise<PinoLogger> {
  const destination = options.destination ?? process.stderr;
  const scrubber = new LogScrubber(options.secrets);
  const format =
    options.format === "auto" || !options.format ? (destination.isTTY ? "pretty" : "json") : options.format;
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names ("error") rather than numbers: what log search tools and people read.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_FIELDS, censor: REDACTED },
    hooks: { streamWrite: (line) => scrubber.scrub(line) },
  };
  if (format === "pretty") {
    // Loaded only for a terminal: a JSON-logging server never pays for it.
    const { default: pretty } = await import("pino-pretty");
    return pino(
      pinoOptions,
      pretty({
        destination,
        sync: true,
        colorize: colorPreference() === "always" || (colorPreference() === "tty" && Boolean(destination.isTTY)),
        translateTime: "SYS:HH:MM:ss.l",
        ignore: "pid,hostname",
      }),
    );
  }
  return pino(pinoOptions, destination);
}

type LevelName = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/**
 * A request's logger, made the first time the request writes a line. pino's child() serialises its
 * bindings through the redaction stringifier (the `*.token` paths apply to every binding), ~1 µs a
 * request, ~1.2% of a 1-row serving process's event loop (profile, load 9), while a routine request
 * writes nothing at the default level. Level checks ask the parent, whose level the child inherits;
 * each line is the child's own, bindings and redaction included.
 */
export class RequestLogger {
  private made: PinoLogger | null = null;

  constructor(
    private readonly parent: PinoLogger,
    private readonly bindings: pino.Bindings,
  ) {}

  private get log(): PinoLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  private write(level: LevelName, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return;
    const log = this.log;
    (log[level] as (...a: unknown[]) => void).apply(log, args);
  }

  fatal(...args: unknown[]): void {
    this.write("fatal", args);
  }
  error(...args: unknown[]): void {
    this.write("error", args);
  }
  warn(...args: unknown[]): void {
    this.write("warn", args);
  }
  info(...args: unknown[]): void {
    this.write("info", args);
  }
  debug(...args: unknown[]): void {
    this.write("debug", args);
  }
  trace(...args: unknown[]): void {
    this.write("trace", args);
  }
  silent(): void {}

  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): PinoLogger {
    return this.log.child(bindings, options);
  }
}
