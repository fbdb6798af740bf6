/**
 * `tandem deploy`, `tandem endpoints ls|show|rollback|promote|rm|events`, `tandem deployments
 * record|ls`, `tandem predict`, and `tandem serve E…` (a standalone serving replica).
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { DEFAULT_PROJECT } from "../core/governance/model.js";
import { openApi, projectPath, resolveProject, UsageError, cliConfig } from "./context.js";
import { SERVING_READ_API } from "./api-scopes.js";
import { formatTime, info, printJson, printTable } from "./output.js";
import { exitIfStillAliveSoon } from "./server.js";
import { registerDeploymentRecord } from "./deployment-record.js";

export interface EndpointWire {
  name: string;
  model: string;
  primary: string;
  canary: { model: string; percent: number } | null;
  shadow: string | null;
  primary_version: number | null;
  canary_version: number | null;
  blocked_canary_version: number | null;
  shadow_version: number | null;
  status: string;
  rollout: { version: number; previous_version: number | null } | null;
  updated_at: number;
  events?: Array<{ at: number; kind: string; severity: string; message: string }>;
  deployments?: DeploymentWire[];
  rolled_back_from?: number | null;
  rolled_back_to?: number | null;
  canary_judgement?: {
    verdict: string;
    reason: string;
    slos: Array<{ slo: string; passed: boolean; summary: string }>;
  } | null;
}
interface DeploymentWire {
  id: string;
  kind: string;
  target: string;
  model: string | null;
  version: number | null;
  previous_version: number | null;
  commit: string | null;
  reason: string;
  outcome: string;
  actor: string;
  started_at: number;
}

function parseCanary(value: string): { selector: string; percent: number } {
  const m = /^([^:]+):(\d+(?:\.\d+)?)%?$/.exec(value);
  if (!m) throw new UsageError(`--canary: expected ALIAS:PERCENT (e.g. challenger:10), got ${JSON.stringify(value)}`);
  const percent = Number(m[2]);
  if (percent < 0 || percent > 100) throw new UsageError(`--canary: percent must be within 0-100, got ${m[2]}`);
  return { selector: m[1]!, percent };
}

/**
 * The canary slot: the version it serves and its share; "(blocked)" after the canary broke its SLO;
 * "(idle)" when the canary alias resolves to nothing to try — most often to the primary's own version,
 * as right after `endpoints promote` — so no traffic goes to a canary.
 */
export function canaryCell(e: EndpointWire): string {
  if (!e.canary) return "-";
  if (e.canary_version !== null) return `${e.canary.model} → ${e.canary_version} (${e.canary.percent}%)`;
  if (e.blocked_canary_version !== null) return `${e.canary.model} → ${e.blocked_canary_version} (blocked)`;
  return `${e.canary.model} (idle)`;
}

const endpointRow = (e: EndpointWire) => ({
  name: e.name,
  primary: `${e.primary} → ${e.primary_version ?? "-"}`,
  canary: canaryCell(e),
  shadow: e.shadow ? `${e.shadow} → ${e.shadow_version ?? "-"}` : "-",
  status: e.status,
  updated: formatTime(e.updated_at),
});

function printEndpoint(e: EndpointWire): void {
  printTable([endpointRow(e)], ["name", "primary", "canary", "shadow", "status", "updated"]);
  if (e.rollout)
    process.stdout.write(
      `rollout: ${e.model}@${e.rollout.version} on the canary slot, replacing ${e.model}@${e.rollout.previous_version ?? "-"}\n`,
    );
}

export function registerServingCommands(program: Command): void {
  program
    .command("deploy <model>")
    .description(
      "Deploy NAME@VERSION or NAME@ALIAS to an endpoint (an alias is followed: moving it rolls out). Checked by the project's policies.",
    )
    .requiredOption("--endpoint <name>", "endpoint to create or update")
    .option("--canary <alias:percent>", "a canary of the same model, e.g. challenger:10")
    .option(
      "--shadow <alias[:percent]>",
      "a shadow version (alias or number), optionally mirroring only PERCENT of requests: its answers are logged, never returned",
    )
    .option("--policy <name>", "policy to check (default: every policy of the project)")
    .option("--slo-window <seconds>", "SLO window for canary judgement (default 600)")
    .option("--max-error-rate-increase <fraction>", "canary error rate allowed above the primary's (default 0.05)")
    .option("--max-p95-ratio <ratio>", "canary p95 latency allowed as a multiple of the primary's (default 2)")
    .option("--min-requests <n>", "requests each arm needs before the canary is judged (default 100)")
    .option("--significance <p>", "significance level of the latency and error-rate tests (default 0.05)")
    .option("--latency-floor <ms>", "a canary p95 under this never fails on latency (default 50)")
    .option("--latency-margin <ms>", "a canary p95 within this of the primary's never fails on latency (default 5)")
    .option(
      "--auto-promote-after <seconds>",
      "promote a healthy rollout after this long (default 0: only by `endpoints promote`)",
    )
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (model: string, opts: Record<string, string | boolean | undefined>) => {
      if (!/^[^@\s]+@[^@\s]+$/.test(model))
        throw new UsageError(`expected NAME@VERSION or NAME@ALIAS, got ${JSON.stringify(model)}`);
      const num = (flag: string, v: unknown) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0)
          throw new UsageError(`${flag}: expected a non-negative number, got ${JSON.stringify(v)}`);
        return n;
      };
      const slo = {
        window_seconds: num("--slo-window", opts.sloWindow),
        max_error_rate_increase: num("--max-error-rate-increase", opts.maxErrorRateIncrease),
        max_p95_ratio: num("--max-p95-ratio", opts.maxP95Ratio),
        min_requests: num("--min-requests", opts.minRequests),
        significance: num("--significance", opts.significance),
        latency_floor_ms: num("--latency-floor", opts.latencyFloor),
        latency_margin_ms: num("--latency-margin", opts.latencyMargin),
        auto_promote_after_seconds: num("--auto-promote-after", opts.autoPromoteAfter),
      };
      const api = await openApi();
      const project = resolveProject(opts.project as string | undefined);
      const e = await api.put<EndpointWire>(
        projectPath(project, `/endpoints/${encodeURIComponent(String(opts.endpoint))}`),
        {
          model,
          canary: typeof opts.canary === "string" ? parseCanary(opts.canary) : null,
          shadow: typeof opts.shadow === "string" ? opts.shadow.split(":")[0] : null,
          shadow_percent:
            typeof opts.shadow === "string" && opts.shadow.includes(":") ? parseCanary(opts.shadow).percent : undefined,
          policy: typeof opts.policy === "string" ? opts.policy : null,
          slo,
        },
      );
      if (opts.json) printJson(e);
      else {
        process.stdout.write(`deployed ${model} to endpoint ${e.name}\n`);
        printEndpoint(e);
      }
    });

  const endpoints = program.command("endpoints").description("Served models: list, inspect, roll back, promote.");
  endpoints
    .command("ls")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; json?: boolean }) => {
      const api = await openApi(SERVING_READ_API);
      const { endpoints: list } = await api.get<{ endpoints: EndpointWire[] }>(
        projectPath(resolveProject(opts.project), "/endpoints"),
      );
      if (opts.json) printJson(list);
      else printTable(list.map(endpointRow), ["name", "primary", "canary", "shadow", "status", "updated"]);
    });
  endpoints
    .command("show <endpoint>")
    .description("An endpoint, its latest events (rollouts, rollbacks, SLO breaches) and deployments.")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (name: string, opts: { project?: string; json?: boolean }) => {
      const api = await openApi(SERVING_READ_API);
      const e = await api.get<EndpointWire>(
        projectPath(resolveProject(opts.project), `/endpoints/${encodeURIComponent(name)}`),
      );
      if (opts.json) return printJson(e);
      printEndpoint(e);
      const j = e.canary_judgement;
      if (j) {
        process.stdout.write(`canary: ${j.verdict.replace("_", " ")}${j.slos.length === 0 ? ` (${j.reason})` : ""}\n`);
        for (const s of j.slos) process.stdout.write(`  ${s.passed ? "ok  " : "FAIL"} ${s.summary}\n`);
      }
      process.stdout.write("\nevents:\n");
      printTable(
        (e.events ?? []).map((ev) => ({ ...ev, at: formatTime(ev.at) })),
        ["at", "severity", "kind", "message"],
      );
      process.stdout.write("\ndeployments:\n");
      printTable(
        (e.deployments ?? []).map((d) => ({ ...d, started_at: formatTime(d.started_at) })),
        ["started_at", "version", "previous_version", "reason", "outcome", "actor"],
      );
    });
  for (const [verb, description] of [
    ["rollback", "Move traffic and the followed alias back to the previous version, together."],
    ["promote", "Make the canary the primary (checked by the policy; an alias-following endpoint moves its alias)."],
  ] as const) {
    endpoints
      .command(`${verb} <endpoint>`)
      .description(description)
      .option("--project <project>", "project (default: the current project)")
      .option("--json", "machine output")
      .action(async (name: string, opts: { project?: string; json?: boolean }) => {
        const api = await openApi();
        const e = await api.post<EndpointWire>(
          projectPath(resolveProject(opts.project), `/endpoints/${encodeURIComponent(name)}/${verb}`),
        );
        if (opts.json) return printJson(e);
        if (verb === "rollback")
          process.stdout.write(
            `rolled back ${name}: ${e.model}@${e.rolled_back_from ?? "-"} → ${e.model}@${e.rolled_back_to ?? "-"}\n`,
          );
        else process.stdout.write(`promoted ${e.model}@${e.primary_version ?? "-"} to primary of ${name}\n`);
        printEndpoint(e);
      });
  }
  endpoints
    .command("rm <endpoint>")
    .description("Stop serving an endpoint.")
    .option("--project <project>", "project (default: the current project)")
    .action(async (name: string, opts: { project?: string }) => {
      const api = await openApi();
      await api.delete(projectPath(resolveProject(opts.project), `/endpoints/${encodeURIComponent(name)}`));
      process.stdout.write(`deleted endpoint ${name}\n`);
    });

  const deployments = program
    .command("deployments")
    .description("Deployment records of models and software services (DORA metrics).");
  registerDeploymentRecord(deployments);
  deployments
    .command("ls")
    .option("--target <name>", "one endpoint or service")
    .option("--kind <kind>", "model or service")
    .option("--limit <n>", "how many (default 100)")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (opts: { target?: string; kind?: string; limit?: string; project?: string; json?: boolean }) => {
      const api = await openApi(SERVING_READ_API);
      const { deployments: list } = await api.get<{ deployments: DeploymentWire[] }>(
        projectPath(resolveProject(opts.project), "/deployments"),
        {
          target: opts.target,
          kind: opts.kind,
          limit: opts.limit,
        },
      );
      if (opts.json) return printJson(list);
      printTable(
        list.map((d) => ({
          ...d,
          started_at: formatTime(d.started_at),
          what: d.model ? `${d.model}@${d.version}` : (d.commit?.slice(0, 12) ?? "-"),
        })),
        ["started_at", "kind", "target", "what", "reason", "outcome", "actor"],
      );
    });

  program
    .command("predict <endpoint>")
    .description('Send instances to an endpoint: FILE.json holds {"instances": [...]} or a bare array.')
    .requiredOption("--instances <file>", "JSON file with the instances ('-' reads stdin)")
    .option("--routing-key <key>", "sticky canary routing key (X-Tandem-Routing-Key)")
    .option("--project <project>", "project (default: the current project)")
    .action(async (endpoint: string, opts: { instances: string; routingKey?: string; project?: string }) => {
      const text =
        opts.instances === "-"
          ? await readStdin()
          : await readFile(opts.instances, "utf8").catch(() => {
              throw new UsageError(`--instances: cannot read ${opts.instances}`);
            });
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`--instances: ${opts.instances} is not valid JSON: ${(error as Error).message}`);
      }
      const instances = Array.isArray(parsed) ? parsed : (parsed as { instances?: unknown }).instances;
      if (!Array.isArray(instances))
        throw new UsageError(`--instances: expected {"instances": [...]} or an array in ${opts.instances}`);
      const api = await openApi();
      const headers: Record<string, string> = { "x-tandem-project": resolveProject(opts.project) };
      if (opts.routingKey) headers["x-tandem-routing-key"] = opts.routingKey;
      const res = await api.request(`POST`, `/v1/endpoints/${encodeURIComponent(endpoint)}/predict`, {
        body: { instances },
        headers,
      });
      printJson(res);
    });

  program
    .command("serve <endpoints...>")
    .description(
      "Serve only these endpoints in a standalone process (a replica behind a load balancer): prediction routes, health, /metrics.",
    )
    .option("--host <host>", "address to bind (default $TANDEM_HOST or 127.0.0.1)")
    .option("--port <port>", "port to bind; 0 picks a free one (default $TANDEM_PORT or 7300)")
    .option("--project <project>", "project of the endpoints (default: the current project)")
    .action(async (names: string[], opts: { host?: string; port?: string; project?: string }) => {
      const config = cliConfig();
      const port = opts.port === undefined ? config.port : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port: expected 0-65535, got ${opts.port}`);
      const project = resolveProject(opts.project) || DEFAULT_PROJECT;
      const { startServeProcess } = await import("../serving/serve-process.js");
      const server = await startServeProcess({
        config,
        host: opts.host ?? config.host,
        port,
        project,
        endpoints: names,
      });
      process.stdout.write(`listening on ${server.url}\n`);
      info(`serving ${names.map((n) => `${project}/${n}`).join(", ")}`);
      info(`prediction log: written every ${server.logWindowMs} ms; a crash loses at most that window's answers`);
      await server.closed;
      exitIfStillAliveSoon("tandem serve");
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
