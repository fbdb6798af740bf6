/**
 * `tandem deployments record <service>`: a software service's deployment, from any CI — its commit
 * and when that commit was made (DORA's change lead time starts there), when it shipped, where, how
 * it ended, and whether it was planned or an intervention (rollback, hotfix).
 */
import { execFileSync } from "node:child_process";
import type { Command } from "commander";
import { openApi, projectPath, resolveProject, UsageError } from "./context.js";
import { printJson } from "./output.js";

const REASONS = ["deploy", "rollback", "hotfix"];
const OUTCOMES = ["succeeded", "failed"];

/** An ISO 8601 time (`2026-03-01T12:00:00Z`) or ms since the epoch, as ms. */
export function parseTime(text: string, option: string): number {
  const trimmed = text.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) : Date.parse(trimmed);
  if (!Number.isFinite(ms))
    throw new UsageError(
      `${option}: expected an ISO 8601 time (2026-03-01T12:00:00Z) or ms since the epoch, got '${text}'`,
    );
  return ms;
}

/**
 * The commit's committer date from the git repository in the current folder (CI runs there), or
 * null when git does not know the commit: the time then stays unknown rather than guessed.
 */
export function commitTimeFromGit(commit: string): number | null {
  if (!/^[0-9a-fA-F]{4,64}$/.test(commit)) return null;
  try {
    const out = execFileSync("git", ["log", "-1", "--format=%ct", "--end-of-options", commit], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return /^\d+$/.test(out) ? Number(out) * 1000 : null;
  } catch {
    return null;
  }
}

interface RecordOptions {
  commit?: string;
  commitTime?: string;
  at?: string;
  environment?: string;
  outcome?: string;
  reason?: string;
  project?: string;
  json?: boolean;
}

export function registerDeploymentRecord(deployments: Command): void {
  deployments
    .command("record <service>")
    .description(
      "Record a software service's deployment from any CI (the source of DORA metrics for services, beside model deployments).",
    )
    .option("--commit <sha>", "git commit deployed")
    .option(
      "--commit-time <time>",
      "when the commit was made, ISO 8601 or ms (default: read from git in the current folder when it knows --commit)",
    )
    .option("--at <time>", "when it was deployed, ISO 8601 or ms (default now)")
    .option("--environment <name>", "where (e.g. production); DORA counts production (or none given) only")
    .option("--outcome <outcome>", "succeeded or failed (default succeeded)")
    .option(
      "--reason <reason>",
      "deploy, rollback or hotfix (default deploy): a rollback or hotfix marks the deployment before it as failed",
    )
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (service: string, opts: RecordOptions) => {
      if (opts.outcome && !OUTCOMES.includes(opts.outcome))
        throw new UsageError(`--outcome: expected succeeded or failed, got ${JSON.stringify(opts.outcome)}`);
      if (opts.reason && !REASONS.includes(opts.reason))
        throw new UsageError(`--reason: expected deploy, rollback or hotfix, got ${JSON.stringify(opts.reason)}`);
      const at = opts.at === undefined ? undefined : parseTime(opts.at, "--at");
      const commitAt =
        opts.commitTime !== undefined
          ? parseTime(opts.commitTime, "--commit-time")
          : opts.commit
            ? commitTimeFromGit(opts.commit)
            : null;
      const api = await openApi();
      const d = await api.post<{ id: string; commit: string | null; outcome: string; reason: string }>(
        projectPath(resolveProject(opts.project), "/deployments"),
        {
          service,
          commit: opts.commit ?? null,
          commit_at: commitAt,
          environment: opts.environment ?? null,
          outcome: opts.outcome,
          reason: opts.reason,
          at,
        },
      );
      if (opts.json) printJson(d);
      else
        process.stdout.write(
          `recorded ${d.reason === "deploy" ? "deployment" : d.reason} ${d.id} of ${service}${d.commit ? ` at ${d.commit}` : ""} (${d.outcome})\n`,
        );
    });
}
