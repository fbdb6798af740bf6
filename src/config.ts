/**
 * The only reader of process.env. Parsed once, validated; a wrong value names its variable.
 */
import { parseExecutorsConfig, type ExecutorsConfig } from "./config-executors.js";
import { createHash } from "node:crypto";
import { isAbsolute, join, resolve } from "node:path";
import { cpus, tmpdir } from "node:os";
import { OUTBOUND_ALLOW_VARIABLE, parseOutboundAllow } from "./stores/http/outbound-guard.js";

export type DatabaseConfig =
  | { kind: "sqlite"; file: string }
  /** poolSize: TANDEM_DATABASE_POOL_SIZE, connections per server process (default 10; see postgres-pool.ts). */
  | { kind: "postgres"; url: string; poolSize?: number };

export type ArtifactsConfig =
  | {
      kind: "fs";
      root: string;
      /**
       * TANDEM_ARTIFACTS_FSYNC: `on` fsyncs each blob before it takes its name and the directories
       * before a version names them; `off` leaves both to the kernel, as DVC does: safe from kill -9,
       * not from a power loss soon after an add (default on; docs/guides/data.md, Durability).
       */
      fsync?: boolean;
    }
  | {
      kind: "s3";
      bucket: string;
      prefix: string;
      /** Endpoint of a non-AWS S3-compatible store (TANDEM_S3_ENDPOINT). */
      endpoint?: string;
      /** (default "us-east-1") */
      region: string;
      accessKeyId?: string;
      secretAccessKey?: string;
    };

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `auto`: pretty lines on a terminal, JSON otherwise. */
export type LogFormat = "auto" | "json" | "pretty";

export interface Config {
  /** TANDEM_HOME (default "./.tandem"), resolved to an absolute path. */
  home: string;
  database: DatabaseConfig;
  artifacts: ArtifactsConfig;
  /** TANDEM_URL: when set, the CLI talks to this server instead of the embedded stores. */
  serverUrl?: string;
  /** TANDEM_TOKEN: the CLI's token (default: the contents of <home>/admin.token). */
  token?: string;
  /** TANDEM_PROJECT: the CLI's project when --project is not given. */
  project?: string;
  /** TANDEM_HOST (default "127.0.0.1"). */
  host: string;
  /** TANDEM_PORT (default 7300). */
  port: number;
  /** TANDEM_AUDIT_HEAD: file keeping the newest audit hash outside the database (default <home>/audit.head). */
  auditHeadFile: string;
  /** TANDEM_SECRET_KEY: 32-byte key (hex or base64) for secrets at rest (default <home>/secret.key). */
  secretKey?: string;
  /** TANDEM_CONCURRENCY: parallel steps of a pipeline run (default: number of cores). */
  concurrency: number;
  /**
   * TANDEM_RUN_LEASE_MS: how long a server's hold on a run lasts unless renewed (every second); after
   * it, another server takes the run over. At least 3000, so one slow renewal does not lose a live
   * server its runs (default 15000).
   */
  runLeaseMs: number;
  /** Serving: TANDEM_SERVING_BATCH_WINDOW_MS, extra wait to gather a micro-batch when idle (default 0). */
  servingBatchWindowMs: number;
  /** Serving: TANDEM_PREDICTION_RETENTION_DAYS, how long the prediction log is kept (default 30). */
  predictionRetentionDays: number;
  /**
   * TANDEM_OUTBOUND_ALLOW: non-public destinations that user-set URLs (alert receivers, webhooks,
   * git remotes, LLM upstreams) may reach anyway — addresses, CIDR ranges, host names, `*.suffix`
   * or `*`, separated by commas or spaces (default none: public addresses only).
   */
  outboundAllow: string[];
  /**
   * TANDEM_WORK_DIR: where local steps get their private directories. Outside the home, so a sandbox
   * can hide the home and still show a step its own directory (default <tmp>/tandem-work-<hash of home>).
   */
  workDir: string;
  /** TANDEM_EXECUTOR, TANDEM_STEP_USER, TANDEM_SLURM_* (config-executors.ts). */
  executors: ExecutorsConfig;
  /**
   * TANDEM_STEP_SANDBOX: `auto` isolates local steps with bubblewrap when it can run here, `bwrap`
   * requires it (the server refuses to start without), `none` runs steps as plain child processes
   * (default auto).
   */
  stepSandbox: "auto" | "bwrap" | "none";
  /**
   * TANDEM_STEP_WRITABLE: absolute folders, separated by colons, that sandboxed steps may write
   * besides their own directory and the temporary folders (a shared dataset folder, a cache). The
   * rest of the host is read-only to them, so a step cannot plant what the server or its admin
   * later runs (~/.gitconfig, ~/.bashrc, ~/.ssh/authorized_keys); never list a folder holding such
   * files (default none).
   */
  stepWritable: string[];
  /**
   * TANDEM_AUTH_FAILURES_PER_MINUTE: failed authentications one client address may make in a
   * minute before its credentialed requests answer 429 for the rest of it (default 20; 0: no limit).
   */
  authFailuresPerMinute: number;
  /** Traces: TANDEM_TRACE_RETENTION_DAYS, how long spans are kept where a project sets none (default 30). */
  traceRetentionDays: number;
  /** TANDEM_LOG_LEVEL (default: `info` for `tandem server`, `error` for the embedded CLI). */
  logLevel?: LogLevel;
  /** TANDEM_LOG_FORMAT: json, pretty or auto (default auto: pretty on a terminal, JSON otherwise). */
  logFormat: LogFormat;
  /** Serving MLflow models (any flavor but onnx) through MLflow's scoring server. */
  mlflowServe: {
    /** TANDEM_PYTHON: the Python that runs `-m mlflow models serve` (default "python3"). */
    python: string;
    /** TANDEM_MLFLOW_SERVE: a shell command serving `$TANDEM_MODEL_DIR` on `$PORT` instead (default none). */
    command: string | null;
    /** TANDEM_MLFLOW_STARTUP_TIMEOUT_S: how long the scoring server may take to answer /ping (default 120). */
    startupTimeoutS: number;
  };
}

/**
 * The server's own files, which a pipeline step must never read: the home (admin.token, secret.key,
 * the SQLite database, artifacts), and wherever configuration moved any of them, plus the step
 * directories (each step sees only its own).
 */
export function serverPrivatePaths(config: Config): string[] {
  const paths = [config.home, config.auditHeadFile, config.workDir];
  if (config.database.kind === "sqlite") {
    const file = config.database.file;
    paths.push(file, `${file}-wal`, `${file}-shm`, `${file}-journal`);
  }
  if (config.artifacts.kind === "fs") paths.push(config.artifacts.root);
  return paths;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function parsePort(variable: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(variable, `expected a port number 0-65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

function parseDatabase(env: Env, home: string): DatabaseConfig {
  const raw = env.TANDEM_DATABASE_URL;
  if (!raw) return { kind: "sqlite", file: join(home, "tandem.db") };
  if (raw.startsWith("postgres://") || raw.startsWith("postgresql://")) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError("TANDEM_DATABASE_URL", `not a valid URL: ${JSON.stringify(raw)}`);
    }
    const pool = env.TANDEM_DATABASE_POOL_SIZE;
    if (pool === undefined || pool === "") return { kind: "postgres", url: raw };
    const poolSize = Number(pool);
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
      throw new ConfigError("TANDEM_DATABASE_POOL_SIZE", `expected a whole number 1-1000, got ${JSON.stringify(pool)}`);
    }
    return { kind: "postgres", url: raw, poolSize };
  }
  if (raw.startsWith("sqlite:")) {
    const file = raw.slice("sqlite:".length).replace(/^\/\//, "");
    if (!file) throw new ConfigError("TANDEM_DATABASE_URL", "sqlite: needs a file path");
    return { kind: "sqlite", file: resolve(file) };
  }
  throw new ConfigError("TANDEM_DATABASE_URL", `expected postgres://… or sqlite:PATH, got ${JSON.stringify(raw)}`);
}

function parseArtifactsFsync(env: Env): boolean | undefined {
  const raw = (env.TANDEM_ARTIFACTS_FSYNC ?? "").toLowerCase();
  if (raw === "") return undefined;
  if (raw === "on") return true;
  if (raw === "off") return false;
  throw new ConfigError(
    "TANDEM_ARTIFACTS_FSYNC",
    `expected on or off, got ${JSON.stringify(env.TANDEM_ARTIFACTS_FSYNC)}`,
  );
}

function parseArtifacts(env: Env, home: string): ArtifactsConfig {
  const raw = env.TANDEM_ARTIFACTS;
  const fsync = parseArtifactsFsync(env);
  if (!raw) return { kind: "fs", root: join(home, "artifacts"), fsync };
  if (raw.startsWith("s3://")) {
    const rest = raw.slice("s3://".length);
    const [bucket, ...prefixParts] = rest.split("/");
    if (!bucket) throw new ConfigError("TANDEM_ARTIFACTS", `s3:// URL has no bucket: ${JSON.stringify(raw)}`);
    const endpoint = env.TANDEM_S3_ENDPOINT || undefined;
    if (endpoint) {
      try {
        new URL(endpoint);
      } catch {
        throw new ConfigError("TANDEM_S3_ENDPOINT", `not a valid URL: ${JSON.stringify(endpoint)}`);
      }
    }
    return {
      kind: "s3",
      bucket,
      prefix: prefixParts.join("/").replace(/\/+$/, ""),
      endpoint,
      region: env.TANDEM_S3_REGION || env.AWS_REGION || "us-east-1",
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    };
  }
  if (raw.includes("://") && !raw.startsWith("file://")) {
    throw new ConfigError("TANDEM_ARTIFACTS", `expected a directory or s3://bucket/prefix, got ${JSON.stringify(raw)}`);
  }
  return { kind: "fs", root: resolve(raw.replace(/^file:\/\//, "")), fsync };
}

function parseLogLevel(raw: string | undefined): LogLevel | undefined {
  if (raw === undefined || raw === "") return undefined;
  const level = raw.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError("TANDEM_LOG_LEVEL", `expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  return level as LogLevel;
}

function parseLogFormat(raw: string | undefined): LogFormat {
  if (raw === undefined || raw === "") return "auto";
  if (raw !== "auto" && raw !== "json" && raw !== "pretty") {
    throw new ConfigError("TANDEM_LOG_FORMAT", `expected json, pretty or auto, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/**
 * Whether terminal output may be coloured, by the usual conventions: NO_COLOR (any non-empty
 * value) turns colour off, FORCE_COLOR (non-empty, not "0") turns it on, TERM=dumb turns it off;
 * otherwise it follows whether the stream is a terminal. Never throws: error messages use it.
 */
export function colorPreference(env: Env = process.env): "never" | "always" | "tty" {
  if (env.NO_COLOR) return "never";
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0") return "always";
  if (env.TERM === "dumb") return "never";
  return "tty";
}

/** Whether this runs under CI (the CI variable that CI services set, any non-empty value but "false"). */
export function runningInCi(env: Env = process.env): boolean {
  return Boolean(env.CI) && env.CI !== "false";
}

export function loadConfig(env: Env = process.env): Config {
  const home = resolve(env.TANDEM_HOME || ".tandem");
  const serverUrl = env.TANDEM_URL || undefined;
  if (serverUrl) {
    try {
      new URL(serverUrl);
    } catch {
      throw new ConfigError("TANDEM_URL", `not a valid URL: ${JSON.stringify(serverUrl)}`);
    }
  }
  const concurrencyRaw = env.TANDEM_CONCURRENCY;
  const concurrency = concurrencyRaw ? Number(concurrencyRaw) : cpus().length;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError("TANDEM_CONCURRENCY", `expected a positive integer, got ${JSON.stringify(concurrencyRaw)}`);
  }
  const leaseRaw = env.TANDEM_RUN_LEASE_MS;
  const runLeaseMs = leaseRaw ? Number(leaseRaw) : 15_000;
  if (!Number.isInteger(runLeaseMs) || runLeaseMs < 3000)
    throw new ConfigError(
      "TANDEM_RUN_LEASE_MS",
      `expected a whole number of milliseconds ≥ 3000 (renewed every 1000), got ${JSON.stringify(leaseRaw)}`,
    );
  const nonNegative = (variable: string, fallback: number): number => {
    const raw = env[variable];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0)
      throw new ConfigError(variable, `expected a non-negative number, got ${JSON.stringify(raw)}`);
    return n;
  };
  const outboundAllow = (env[OUTBOUND_ALLOW_VARIABLE] ?? "").split(/[\s,]+/).filter(Boolean);
  try {
    parseOutboundAllow(outboundAllow);
  } catch (error) {
    throw new ConfigError(OUTBOUND_ALLOW_VARIABLE, (error as Error).message);
  }
  const sandbox = env.TANDEM_STEP_SANDBOX || "auto";
  if (sandbox !== "auto" && sandbox !== "bwrap" && sandbox !== "none")
    throw new ConfigError("TANDEM_STEP_SANDBOX", `expected auto, bwrap or none, got ${JSON.stringify(sandbox)}`);
  const stepWritable = (env.TANDEM_STEP_WRITABLE ?? "").split(":").filter(Boolean);
  const relativeWritable = stepWritable.find((dir) => !isAbsolute(dir));
  if (relativeWritable !== undefined)
    throw new ConfigError("TANDEM_STEP_WRITABLE", `expected absolute paths, got ${JSON.stringify(relativeWritable)}`);
  const homeHash = createHash("sha256").update(home).digest("hex").slice(0, 12);
  return {
    home,
    database: parseDatabase(env, home),
    artifacts: parseArtifacts(env, home),
    serverUrl: serverUrl?.replace(/\/+$/, ""),
    token: env.TANDEM_TOKEN || undefined,
    project: env.TANDEM_PROJECT || undefined,
    host: env.TANDEM_HOST || "127.0.0.1",
    port: parsePort("TANDEM_PORT", env.TANDEM_PORT, 7300),
    auditHeadFile: env.TANDEM_AUDIT_HEAD ? resolve(env.TANDEM_AUDIT_HEAD) : join(home, "audit.head"),
    secretKey: env.TANDEM_SECRET_KEY || undefined,
    concurrency,
    runLeaseMs,
    servingBatchWindowMs: nonNegative("TANDEM_SERVING_BATCH_WINDOW_MS", 0),
    predictionRetentionDays: nonNegative("TANDEM_PREDICTION_RETENTION_DAYS", 30),
    outboundAllow,
    workDir: env.TANDEM_WORK_DIR ? resolve(env.TANDEM_WORK_DIR) : join(tmpdir(), `tandem-work-${homeHash}`),
    stepSandbox: sandbox,
    stepWritable: stepWritable.map((dir) => resolve(dir)),
    executors: parseExecutorsConfig(env, (variable, message) => new ConfigError(variable, message)),
    authFailuresPerMinute: Math.floor(nonNegative("TANDEM_AUTH_FAILURES_PER_MINUTE", 20)),
    traceRetentionDays: nonNegative("TANDEM_TRACE_RETENTION_DAYS", 30),
    logLevel: parseLogLevel(env.TANDEM_LOG_LEVEL),
    logFormat: parseLogFormat(env.TANDEM_LOG_FORMAT),
    mlflowServe: {
      python: env.TANDEM_PYTHON || "python3",
      command: env.TANDEM_MLFLOW_SERVE || null,
      startupTimeoutS: nonNegative("TANDEM_MLFLOW_STARTUP_TIMEOUT_S", 120),
    },
  };
}
