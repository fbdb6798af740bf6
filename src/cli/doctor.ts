/**
 * `tandem doctor`: is this installation ready? One line per check (wiring/doctor.ts has the
 * probes), `ok` or `FIX` with what to do; exit 1 when anything needs doing. With TANDEM_URL set it
 * also asks that server's /readyz. See docs/guides/operations.md.
 */
import type { Command } from "commander";
import { runDoctor, type DoctorCheck } from "../wiring/doctor.js";
import { colourOn, paint } from "./colour.js";
import { cliConfig, EXIT } from "./context.js";
import { formatTable, printJson } from "./output.js";

async function serverCheck(url: string): Promise<DoctorCheck> {
  try {
    const res = await fetch(new URL("/readyz", url), { signal: AbortSignal.timeout(10_000) });
    if (res.ok) return { check: "server", ok: true, detail: `${url} is ready` };
    return { check: "server", ok: false, detail: `${url}/readyz answered ${res.status}: see that server's log` };
  } catch (error) {
    const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : "";
    return { check: "server", ok: false, detail: `cannot reach ${url} (TANDEM_URL): ${reason}; start tandem server` };
  }
}

/** The checks as aligned lines: `ok   store       …` / `FIX  migrations  …`, coloured on a terminal. */
export function formatChecks(checks: DoctorCheck[], colour: boolean): string {
  const rows = checks.map((c) => ({ status: c.ok ? "ok" : "FIX", check: c.check, detail: c.detail }));
  return formatTable(rows, ["status", "check", "detail"])
    .split("\n")
    .slice(1) // no header: each line reads on its own
    .map((line) =>
      line.startsWith("FIX")
        ? paint("red", "FIX", colour) + line.slice(3)
        : paint("green", "ok", colour) + line.slice(2),
    )
    .join("\n");
}

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description(
      "Check this installation: store and migrations, artifacts, executors, web UI, Python, disk space. Each line says ok or what to do; exit 1 when something needs doing.",
    )
    .option("--json", "print the checks as JSON: [{check, ok, detail}]")
    .action(async (opts: { json?: boolean }) => {
      const config = cliConfig();
      const checks = await runDoctor(config);
      if (config.serverUrl) checks.unshift(await serverCheck(config.serverUrl));
      if (opts.json) printJson(checks);
      else process.stdout.write(`${formatChecks(checks, colourOn(process.stdout))}\n`);
      if (checks.some((c) => !c.ok)) process.exitCode = EXIT.negative;
    });
}
