/**
 * `tandem quickstart`: the whole closed loop on real flight data in a fresh home, printing each stage
 * as it happens (stderr) and a summary at the end (stdout). See docs/guides/quickstart.md.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { runningInCi } from "../config.js";
import { cliConfig, UsageError } from "./context.js";
import { info } from "./output.js";

function positive(flag: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${flag}: expected an integer 1-${max}, got ${raw}`);
  return n;
}

/** $TANDEM_HOME when it is set and empty (or missing), else a new folder under ./.tandem-quickstart/. */
async function freshHome(): Promise<string> {
  const home = cliConfig().home;
  if (home !== resolve(".tandem")) {
    if (existsSync(home) && readdirSync(home).length > 0)
      throw new UsageError(`TANDEM_HOME=${home} is not empty; the quickstart needs a fresh home (unset it to get one)`);
    await mkdir(home, { recursive: true });
    return home;
  }
  const dir = resolve(".tandem-quickstart", new Date().toISOString().replace(/[:.]/g, "-"));
  await mkdir(dir, { recursive: true });
  return dir;
}

export function registerQuickstartCommand(program: Command): void {
  program
    .command("quickstart")
    .description(
      "The closed loop on real flights (Jan–Jun 2001): train, approve, deploy, replay months over HTTP, detect drift, retrain, canary.",
    )
    .option("--rows <n>", "January flights to train the first model on", "100000")
    .option("--replay-rows <n>", "flights replayed through the endpoint per later month", "2000")
    .option("--months <n>", "later months to replay at most while looking for drift (1-5)", "5")
    .option("--keep", "keep the server running after the summary, to explore (default on a terminal outside CI)")
    .option(
      "--exit",
      "stop the server and exit after the summary (default when stdout is not a terminal, or CI is set)",
    )
    .action(async (opts: { rows: string; replayRows: string; months: string; keep?: boolean; exit?: boolean }) => {
      if (opts.keep && opts.exit) throw new UsageError("--keep and --exit contradict each other: give one");
      const trainRows = positive("--rows", opts.rows, 500_000);
      const replayRows = positive("--replay-rows", opts.replayRows, 100_000);
      const months = positive("--months", opts.months, 5);
      const home = await freshHome();
      const exampleDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples", "flights");
      if (!existsSync(join(exampleDir, "tandem.yaml"))) throw new UsageError(`${exampleDir}/tandem.yaml is missing`);
      // January starts loading (DuckDB, on its own threads) while the server's modules load.
      const { FlightMonths } = await import("../quickstart/months.js");
      const flights = new FlightMonths();
      flights.prefetch(0, trainRows);
      const [{ runQuickstart }, { Progress }, { formatSummary, keepsServing }] = await Promise.all([
        import("../quickstart/loop.js"),
        import("../quickstart/progress.js"),
        import("../quickstart/summary.js"),
      ]);
      const serving = keepsServing({ ...opts, stdoutIsTTY: Boolean(process.stdout.isTTY), ci: runningInCi() });
      const progress = new Progress();
      const report = await runQuickstart({
        home,
        exampleDir,
        trainRows,
        replayRows,
        months,
        flights,
        progress,
      });
      process.stdout.write(`${formatSummary(report, progress.elapsedSeconds(), serving)}\n`);
      if (serving) {
        info(`\nThe server keeps running at ${report.url} — Ctrl-C stops it`);
        await new Promise<void>((r) => {
          process.once("SIGINT", r);
          process.once("SIGTERM", r);
        });
      }
      await report.server.stop();
    });
}
