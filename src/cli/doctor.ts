/**
 * `tandem doctor`: is this installation ready? One line per check (wiring/doctor.ts has the
 * probes), `ok` or `FIX` with what to do; exit 1 when anything needs doing. With TANDEM_URL set the
 * CLI is a client of that server: doctor checks the server answers and the token signs in (the
 * server's store, artifacts and executors are checked by doctor on the server's host), and Python.
 * See docs/guides/operations.md.
 */
import type { Command } from "commander";
import type { DoctorCheck } from "../wiring/doctor.js";
import { colourOn, paint } from "./colour.js";
import { cliConfig, EXIT, openApi } from "./context.js";
import { formatTable, printJson } from "./output.js";

async function serverChecks(url: string, token: string | undefined): Promise<DoctorCheck[]> {
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, url), { headers, signal: AbortSignal.timeout(10_000) });
  try {
    const ready = await get("/readyz");
    if (!ready.ok)
      return [{ check: "server", ok: false, detail: `${url}/readyz answered ${ready.status}: see that server's log` }];
  } catch (error) {
    const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : "";
    return [{ check: "server", ok: false, detail: `cannot reach ${url} (TANDEM_URL): ${reason}; start tandem server` }];
  }
  const server: DoctorCheck = { check: "server", ok: true, detail: `${url} is ready` };
  if (!token)
    return [
      server,
      {
        check: "token",
        ok: false,
        detail: "TANDEM_TOKEN is not set (nor <home>/admin.token): ask an admin for a token",
      },
    ];
  const me = await get("/api/v1/whoami", { authorization: `Bearer ${token}` });
  if (!me.ok)
    return [
      server,
      {
        check: "token",
        ok: false,
        detail: `the server refuses TANDEM_TOKEN (${me.status}): it is wrong, revoked or expired; ask an admin for a new one`,
      },
    ];
  const who = (await me.json()) as { user: string; is_admin: boolean; token_role: string | null };
  const caps = [who.is_admin ? "site admin" : null, who.token_role ? `capped to ${who.token_role}` : null];
  const shown = caps.filter(Boolean).join(", ");
  return [server, { check: "token", ok: true, detail: `signs in as ${who.user}${shown ? ` (${shown})` : ""}` }];
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
      const { pythonCheck, runDoctor } = await import("../wiring/doctor.js");
      const checks = config.serverUrl
        ? [...(await serverChecks(config.serverUrl, (await openApi()).authToken)), pythonCheck(config)]
        : await runDoctor(config);
      if (opts.json) printJson(checks);
      else process.stdout.write(`${formatChecks(checks, colourOn(process.stdout))}\n`);
      if (checks.some((c) => !c.ok)) process.exitCode = EXIT.negative;
    });
}
