import type { Command } from "commander";
import { startServer } from "../server/listen.js";
import { cliConfig, UsageError } from "./context.js";
import { info } from "./output.js";

export function registerServerCommands(program: Command): void {
  program
    .command("server")
    .description(
      "Run the Tandem server: API, MLflow-compatible API, serving, UI and background loops (schedules, monitors).",
    )
    .option("--host <host>", "address to bind (default $TANDEM_HOST or 127.0.0.1)")
    .option("--port <port>", "port to bind; 0 picks a free one (default $TANDEM_PORT or 7300)")
    .option("--no-auth", "accept every request as an administrator (throwaway local use only)")
    .action(async (opts: { host?: string; port?: string; auth: boolean }) => {
      const config = cliConfig();
      const port = opts.port === undefined ? config.port : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port: expected 0-65535, got ${opts.port}`);
      const server = await startServer({ config, host: opts.host ?? config.host, port, noAuth: !opts.auth });
      // The first line of output, so scripts can read the address of `--port 0`.
      process.stdout.write(`listening on ${server.url}\n`);
      if (!opts.auth) {
        info("WARNING: --no-auth: every request acts as an administrator. Never expose this server.");
      }
      info(
        `store: ${config.database.kind === "sqlite" ? config.database.file : "postgres"}; artifacts: ${config.artifacts.kind === "fs" ? config.artifacts.root : `s3://${config.artifacts.bucket}`}`,
      );
      await server.closed;
    });
}
