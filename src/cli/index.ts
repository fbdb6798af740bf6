/**
 * `tandem`: one command group per file, registered below (add one line per group).
 */
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config.js";
import { ApiError } from "./api.js";
import { EXIT, UsageError, VerdictError, closeApi } from "./context.js";
import { SpecProblemsError } from "./spec-problems.js";
import { registerAccessCommands } from "./access.js";
import { registerAlertCommands } from "./alerts.js";
import { registerAuditCommands } from "./audit.js";
import { registerDataCommands } from "./data.js";
import { registerModelCommands } from "./models.js";
import { registerPipelineCommands } from "./pipelines.js";
import { registerPolicyCommands } from "./policies.js";
import { registerQuickstartCommand } from "./quickstart.js";
import { registerMonitorCommands } from "./monitors.js";
import { registerMonitorRunCommands } from "./monitor-runs.js";
import { registerTrafficExportCommand } from "./traffic-export.js";
import { registerServingCommands } from "./serving.js";
import { registerServerCommands } from "./server.js";
import { registerTrackingCommands } from "./tracking.js";
import { registerPromptCommands } from "./prompts.js";

export function buildProgram(): Command {
  const program = new Command("tandem")
    .description(
      "Ship software and machine-learning models through the same pipelines, and keep them healthy in production.\n\n" +
        "Talks to the server at $TANDEM_URL when set, else works on the embedded stores in $TANDEM_HOME (default ./.tandem).\n" +
        "Exit codes: 0 ok; 1 negative verdict (run failed, drift found, policy refused, audit broken);\n" +
        "2 usage or spec error; 3 not authenticated or not allowed; 4 not found.",
    )
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  registerQuickstartCommand(program);
  registerServerCommands(program);
  registerAccessCommands(program);
  registerAuditCommands(program);
  registerDataCommands(program);
  registerModelCommands(program);
  registerPolicyCommands(program);
  registerPipelineCommands(program);
  // After pipelines: it adds search/compare/gc to the `runs` group that registerPipelineCommands makes.
  registerTrackingCommands(program);
  registerAlertCommands(program);
  registerServingCommands(program);
  registerMonitorCommands(program);
  registerMonitorRunCommands(program);
  registerTrafficExportCommand(program);
  registerPromptCommands(program);
  return program;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof VerdictError) return EXIT.negative;
  if (error instanceof UsageError || error instanceof ConfigError) return EXIT.usage;
  if (error instanceof ApiError) {
    if (error.status === 401 || error.status === 403) return EXIT.auth;
    if (error.status === 404) return EXIT.notFound;
    if (error.status === 409) return EXIT.negative;
    if (error.status >= 400 && error.status < 500) return EXIT.usage;
    return EXIT.negative;
  }
  return EXIT.negative;
}

function describe(error: unknown): string {
  if (error instanceof SpecProblemsError) return error.describe();
  if (error instanceof ApiError) {
    const lines = [`error: ${error.message}`];
    if (error.details && typeof error.details === "object" && "issues" in error.details) {
      for (const issue of (error.details as { issues: Array<{ path?: string; message: string }> }).issues.slice(1)) {
        lines.push(issue.path ? `  ${issue.path}: ${issue.message}` : `  ${issue.message}`);
      }
    }
    return lines.join("\n");
  }
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let code: number;
  try {
    await program.parseAsync(argv);
    code = typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      code = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      process.stderr.write(`${describe(error)}\n`);
      if (process.env.TANDEM_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
      code = exitCodeOf(error);
    }
  } finally {
    await closeApi().catch(() => undefined);
  }
  return code;
}
