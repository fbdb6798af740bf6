import type { Command } from "commander";
import { userInfo } from "node:os";
import type { Config } from "../config.js";
import { cliConfig, UsageError } from "./context.js";
import { info } from "./output.js";

/**
 * Says at start whether pipeline steps are isolated from the server's files, and refuses a shared
 * deployment (Postgres: several people, several servers) where they are not, unless told otherwise.
 */
async function stepIsolationNotice(config: Config, allowSharedUser: boolean): Promise<string> {
  const { sandboxFor } = await import("../executors/local/sandbox.js");
  let isolation;
  try {
    isolation = sandboxFor(config.stepSandbox);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (isolation.isolated) return `steps: isolated with ${isolation.how}; this server's home is hidden from them`;
  const user = userInfo().username;
  const risk =
    `pipeline steps run as ${user}, the server's own user, and can read ${config.home} ` +
    `(admin.token, the database, secret.key, artifacts): anyone who can run a pipeline can become site admin`;
  if (config.database.kind === "postgres" && !allowSharedUser) {
    throw new UsageError(
      `steps cannot be isolated here (${isolation.reason}), so ${risk}. This server uses Postgres, a shared ` +
        `deployment: install bubblewrap (apt-get install bubblewrap), or pass --allow-shared-user if everyone who ` +
        `can run a pipeline may act as its administrator.`,
    );
  }
  return `WARNING: steps are not isolated (${isolation.reason}): ${risk}. Fine for a single-user laptop; install bubblewrap for anything shared.`;
}

/**
 * A warning when the Postgres store lets this server's user in without a password: steps and served
 * models can then connect to it too (postgres-exposure.ts), whatever the sandbox hides. Null otherwise.
 */
async function storeExposureNotice(config: Config): Promise<string | null> {
  if (config.database.kind !== "postgres") return null;
  const { passwordlessPostgres, PASSWORDLESS_STORE } = await import("../stores/metadata/postgres-exposure.js");
  return (await passwordlessPostgres(config.database.url)) ? `WARNING: ${PASSWORDLESS_STORE}.` : null;
}

/**
 * After a clean stop the process ends once nothing is left to do. Should a handle leak (a socket a
 * loop opened as the stop began), end it anyway after a grace period: a SIGTERM must not hang.
 */
export function exitIfStillAliveSoon(what: string): void {
  setTimeout(() => {
    process.stderr.write(`${what}: stopped, but an open handle kept the process alive; exiting\n`);
    process.exit(process.exitCode ?? 0);
  }, 5_000).unref();
}

export function registerServerCommands(program: Command): void {
  program
    .command("server")
    .description(
      "Run the Tandem server: API, MLflow-compatible API, serving, UI and background loops (schedules, monitors).",
    )
    .option("--host <host>", "address to bind (default $TANDEM_HOST or 127.0.0.1)")
    .option("--port <port>", "port to bind; 0 picks a free one (default $TANDEM_PORT or 7300)")
    .option("--no-auth", "accept every request as an administrator (throwaway local use only)")
    .option(
      "--allow-shared-user",
      "start on Postgres even when pipeline steps cannot be isolated from the server's files (bubblewrap missing)",
    )
    .action(async (opts: { host?: string; port?: string; auth: boolean; allowSharedUser?: boolean }) => {
      const config = cliConfig();
      const port = opts.port === undefined ? config.port : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port: expected 0-65535, got ${opts.port}`);
      const isolation = await stepIsolationNotice(config, opts.allowSharedUser ?? false);
      const exposure = storeExposureNotice(config);
      const { startServer } = await import("../server/listen.js");
      const server = await startServer({ config, host: opts.host ?? config.host, port, noAuth: !opts.auth });
      // The first line of output, so scripts can read the address of `--port 0`.
      process.stdout.write(`listening on ${server.url}\n`);
      if (!opts.auth) {
        info("WARNING: --no-auth: every request acts as an administrator. Never expose this server.");
      }
      info(
        `store: ${config.database.kind === "sqlite" ? config.database.file : "postgres"}; artifacts: ${config.artifacts.kind === "fs" ? config.artifacts.root : `s3://${config.artifacts.bucket}`}`,
      );
      info(isolation);
      const exposed = await exposure;
      if (exposed) info(exposed);
      await server.closed;
      exitIfStillAliveSoon("tandem server");
    });
}
