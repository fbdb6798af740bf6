/**
 * What every command needs: the configuration, an API connection (opened lazily, closed at exit),
 * the project it acts in, and the exit codes of DESIGN.md.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, type Config } from "../config.js";
import { DEFAULT_PROJECT } from "../core/governance/model.js";
import { specDocument } from "../core/pipelines/spec/document.js";
import { TandemApi, type ApiScope } from "./api.js";

/**
 * Exit codes. 0-4 are DESIGN.md's; 5 and 6 tell a script that retrying or reporting may help, where
 * 1 (a negative verdict) says the work itself was judged and failed.
 */
export const EXIT = {
  ok: 0,
  negative: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  internal: 5,
  unreachable: 6,
  pending: 7,
} as const;

/** The help text's summary of EXIT. */
export const EXIT_CODES_HELP =
  "Exit codes: 0 ok; 1 negative verdict (run failed, drift found, policy refused, audit broken);\n" +
  "2 usage or spec error; 3 not authenticated or not allowed; 4 not found;\n" +
  "5 internal error (the server answered 5xx, or tandem itself failed: a bug to report);\n" +
  "6 the server, its metadata store or an upstream it calls cannot be reached (or answered 502/503/504);\n" +
  "7 held: a policy holds the request (alias set, deploy) until an approver approves it.";

/** A negative verdict (run failed, drift found, policy refused, audit broken): exit 1, message on stderr. */
export class VerdictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VerdictError";
  }
}

/**
 * A request a policy holds for approval (exit 7): not refused, not done. Its own code so a `set -e`
 * script can tell "wait for an approver" from "refused" (1).
 */
export class PendingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PendingError";
  }
}

/** A usage error found by the command itself (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

let config: Config | undefined;
let api: TandemApi | undefined;

export function cliConfig(): Config {
  config ??= loadConfig();
  return config;
}

/**
 * The command's API connection, opened on first use. An embedded command that names its `scope` gets
 * an app with only those areas and routes (faster to start); one command opens one API, so the first
 * call's scope is the command's.
 */
export async function openApi(scope?: ApiScope): Promise<TandemApi> {
  api ??= await TandemApi.connect(cliConfig(), scope);
  return api;
}

export async function closeApi(): Promise<void> {
  const current = api;
  api = undefined;
  await current?.close();
}

/** The project of a command: --project, else $TANDEM_PROJECT, else ./tandem.yaml's `project:`, else `default`. */
/**
 * The project a command acts in: --project, else $TANDEM_PROJECT, else the `project:` of the spec
 * the command reads (`specPath`: `tandem validate ../other/tandem.yaml` acts in that spec's project),
 * else of ./tandem.yaml, else the default project.
 */
export function resolveProject(flag?: string, specPath = join(process.cwd(), "tandem.yaml")): string {
  if (flag) return flag;
  const fromEnv = cliConfig().project;
  if (fromEnv) return fromEnv;
  if (existsSync(specPath)) {
    try {
      // The same parse the spec's checks use next in this process (embedded apply and run).
      const { doc } = specDocument(readFileSync(specPath, "utf8"));
      const project: unknown = doc.errors.length ? undefined : doc.get("project");
      if (typeof project === "string" && project) return project;
    } catch {
      // A broken spec is reported by the commands that read it; here we only want its project.
    }
  }
  return DEFAULT_PROJECT;
}

/** `/api/v1/projects/<project>` + rest, with the project URL-encoded. */
export function projectPath(project: string, rest: string): string {
  return `/api/v1/projects/${encodeURIComponent(project)}${rest}`;
}
