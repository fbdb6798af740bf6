/**
 * `tandem`: one command group per file, registered below (add one line per group to COMMAND_MODULES).
 */
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config.js";
import { assertNever, TandemError, type ErrorCode } from "../core/errors.js";
import { ApiError, UnreachableError } from "./api.js";
import { EXIT, EXIT_CODES_HELP, PendingError, UsageError, VerdictError, closeApi } from "./context.js";
import { SpecProblemsError } from "./spec-problems.js";
import { endQuietlyWhenOutputCloses } from "./closed-pipe.js";
import { colourOn, paint } from "./colour.js";
import { registerQuickstartCommand } from "./quickstart.js";
import { registerServerCommands } from "./server.js";
import { registerAccessCommands } from "./access.js";
import { registerAuditCommands } from "./audit.js";
import { registerDataCommands } from "./data.js";
import { registerDataQueryCommand } from "./data-query.js";
import { registerModelCommands } from "./models.js";
import { registerPolicyCommands } from "./policies.js";
import { registerPipelineCommands } from "./pipelines.js";
import { registerTrackingCommands } from "./tracking.js";
import { registerAlertCommands } from "./alerts.js";
import { registerServingCommands } from "./serving.js";
import { registerMonitorCommands } from "./monitors.js";
import { registerMonitorRunCommands } from "./monitor-runs.js";
import { registerTrafficExportCommand } from "./traffic-export.js";
import { registerPromptCommands } from "./prompts.js";
import { registerDoctorCommand } from "./doctor.js";
import { registerMaturityCommand } from "./maturity.js";
import { registerCatalogCommands } from "./catalog.js";
import { registerInitCommand } from "./init.js";
import { registerDoraCommand } from "./dora.js";
import { registerStepAgentCommand } from "./step-agent.js";
import { registerCompletionCommand } from "./completion.js";

type Registrar = (program: Command) => void;

/**
 * Every command module, in the order the whole program registers them (help lists commands in this
 * order), with the top-level commands each adds or extends. A command names its group first
 * (`tandem runs ls`), so only the modules of that group register theirs: registering every command
 * (commander parses each option's flags) took 8-26 ms of CPU in a fresh process, `runs` alone 2-14
 * (load 20, issue 18). The modules stay imported statically: loaded lazily, each became a file of the
 * bundle of its own, and `--help`, which loads them all, took about 40 ms more. The group's tree is
 * the same as in the whole program (index.test.ts compares every group's), so it parses, helps and
 * fails the same.
 */
const COMMAND_MODULES: ReadonlyArray<{ commands: readonly string[]; register: Registrar }> = [
  { commands: ["quickstart"], register: registerQuickstartCommand },
  { commands: ["server"], register: registerServerCommands },
  { commands: ["users", "members", "tokens"], register: registerAccessCommands },
  { commands: ["audit"], register: registerAuditCommands },
  { commands: ["data"], register: registerDataCommands },
  // Adds `query` to the `data` group made above.
  { commands: ["data"], register: registerDataQueryCommand },
  { commands: ["models"], register: registerModelCommands },
  { commands: ["policies"], register: registerPolicyCommands },
  {
    commands: ["schema", "validate", "apply", "run", "runs", "secrets"],
    register: registerPipelineCommands,
  },
  // After pipelines: it adds search/compare/gc to the `runs` group that registerPipelineCommands makes.
  { commands: ["runs", "experiments"], register: registerTrackingCommands },
  { commands: ["alerts"], register: registerAlertCommands },
  {
    commands: ["deploy", "endpoints", "deployments", "predict", "serve"],
    register: registerServingCommands,
  },
  { commands: ["monitors"], register: registerMonitorCommands },
  { commands: ["monitors"], register: registerMonitorRunCommands },
  { commands: ["endpoints"], register: registerTrafficExportCommand },
  { commands: ["prompts", "traces"], register: registerPromptCommands },
  { commands: ["doctor"], register: registerDoctorCommand },
  { commands: ["maturity"], register: registerMaturityCommand },
  { commands: ["catalog"], register: registerCatalogCommands },
  { commands: ["init"], register: registerInitCommand },
  { commands: ["dora"], register: registerDoraCommand },
  { commands: ["step-agent"], register: registerStepAgentCommand },
  // Last, and with everything: it reads the finished tree when it runs, to complete every command.
  { commands: [], register: registerCompletionCommand },
];

/**
 * The program: with `group`, a top-level command, only the modules that add or extend it; with none
 * (or one no module names: `--help`, `help`, `completion`, a typo to suggest a fix for), every command.
 */
export function buildProgram(group?: string): Command {
  const program = new Command("tandem")
    .description(
      "Ship software and machine-learning models through the same pipelines, and keep them healthy in production.\n\n" +
        "Talks to the server at $TANDEM_URL when set, else works on the embedded stores in $TANDEM_HOME (default ./.tandem).\n" +
        EXIT_CODES_HELP,
    )
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  const some = group === undefined ? [] : COMMAND_MODULES.filter((m) => m.commands.includes(group));
  const modules = some.length > 0 ? some : COMMAND_MODULES;
  for (const m of modules) m.register(program);
  return program;
}

/** Domain errors a command meets in-process map like their HTTP statuses would. */
function exitCodeOfDomain(code: ErrorCode): number {
  switch (code) {
    case "INVALID_INPUT":
    case "UNPROCESSABLE":
    case "PAYLOAD_TOO_LARGE":
      return EXIT.usage;
    case "UNAUTHENTICATED":
    case "FORBIDDEN":
    case "RATE_LIMITED":
      return EXIT.auth;
    case "NOT_FOUND":
      return EXIT.notFound;
    case "CONFLICT":
    case "POLICY_REFUSED":
      return EXIT.negative;
    case "INTERNAL":
      return EXIT.internal;
    case "BAD_GATEWAY":
      return EXIT.unreachable;
    default:
      return assertNever(code, "error code");
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof VerdictError) return EXIT.negative;
  if (error instanceof PendingError) return EXIT.pending;
  if (error instanceof UsageError || error instanceof ConfigError) return EXIT.usage;
  if (error instanceof UnreachableError) return EXIT.unreachable;
  if (error instanceof TandemError) return exitCodeOfDomain(error.code);
  if (error instanceof ApiError) {
    // 429: too many failed sign-ins from here (the rate limit on guessing tokens).
    if (error.status === 401 || error.status === 403 || error.status === 429) return EXIT.auth;
    if (error.status === 404) return EXIT.notFound;
    if (error.status === 409) return EXIT.negative;
    if (error.status >= 400 && error.status < 500) return EXIT.usage;
    // 502/503/504: the server is up but what it depends on (an upstream, its store) is not.
    if (error.status === 502 || error.status === 503 || error.status === 504) return EXIT.unreachable;
    return EXIT.internal;
  }
  return EXIT.internal;
}

function describe(error: unknown): string {
  if (error instanceof SpecProblemsError) return error.describe();
  if (error instanceof ApiError) {
    if (error.status >= 500) {
      return `error: the server failed: ${error.message}${error.requestId ? ` (request id ${error.requestId}: its log has the details)` : ""}`;
    }
    const lines = [`error: ${error.message}`];
    if (error.details && typeof error.details === "object" && "issues" in error.details) {
      for (const issue of (error.details as { issues: Array<{ path?: string; message: string }> }).issues.slice(1)) {
        lines.push(issue.path ? `  ${issue.path}: ${issue.message}` : `  ${issue.message}`);
      }
    }
    return lines.join("\n");
  }
  // Held, not failed: the message says who acts next, without "error:".
  if (error instanceof PendingError) return error.message;
  const known = [VerdictError, UsageError, ConfigError, UnreachableError, TandemError];
  if (error instanceof Error && known.some((k) => error instanceof k)) return `error: ${error.message}`;
  // Anything else is a bug in tandem: say so, and how to see where.
  const message = error instanceof Error ? error.message : String(error);
  return `error: internal error: ${message}${process.env.TANDEM_DEBUG ? "" : " (TANDEM_DEBUG=1 shows the stack)"}`;
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyWhenOutputCloses();
  // The first argument names the command group, unless it is an option (--help, --version).
  const first = argv[2];
  const program = buildProgram(first && !first.startsWith("-") ? first : undefined);
  let code: number;
  try {
    await program.parseAsync(argv);
    code = typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      code = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      const text = describe(error);
      // "error:" in red on a terminal (NO_COLOR and pipes keep it plain).
      process.stderr.write(
        `${text.startsWith("error:") ? paint("red", "error:", colourOn(process.stderr)) + text.slice(6) : text}\n`,
      );
      if (process.env.TANDEM_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
      code = exitCodeOf(error);
    }
  } finally {
    await closeApi().catch(() => undefined);
  }
  return code;
}
