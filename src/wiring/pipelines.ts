/** The pipelines area: specs, the run engine on its executors, secrets, triggers. */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { RunTokens } from "../core/governance/run-tokens.js";
import type { BuiltinServices } from "../core/pipelines/builtins/contract.js";
import type { EngineDeps } from "../core/pipelines/engine/deps.js";
import { SecretBox, SecretService } from "../core/pipelines/secrets.js";
import { loadSecretKey } from "./secret-key.js";
import { tandemCodeIdentity } from "./tandem-code.js";
import { PipelineService } from "../core/pipelines/service.js";
import { LocalExecutor } from "../executors/local/local-executor.js";
import { LocalEnvironmentProbe } from "../executors/local/probe.js";
import { LocalWorkspace } from "../executors/local/workspace.js";
import { withReferences } from "./pipelines-references.js";
import { SqlPipelineStore } from "../stores/metadata/pipelines-store.js";
import type { Wiring } from "./kit.js";
import { serverPrivatePaths } from "../config.js";
import { createAuditHeadFile } from "../stores/files/audit-head-file.js";
import { batchedTrackingLink } from "./pipelines-tracking.js";
import { TriggerService } from "../core/pipelines/triggers.js";
import { LocalGit } from "../executors/local/git.js";
import { gitSandbox, hostSandbox } from "../executors/local/git-sandbox.js";
import { checkoutsOf, sandboxOptions } from "./sandbox-paths.js";
import { wireExecutors } from "./executors.js";
import { everyInterval } from "../server/background.js";
import type { Logger } from "../core/logger.js";
import type { FiredRun } from "../core/pipelines/triggers.js";

declare module "../server/services.js" {
  interface Services {
    pipelines: PipelineService;
    secrets: SecretService;
    /** `fire(kind, project, name, payload, idempotencyKey)`: data and alert events start pipelines here. */
    pipelineTriggers: TriggerService;
  }
}

/** `host:pid:random` — enough for a process on the same host to tell whether the owner still lives. */
export function newLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

export function leaseOwnerAlive(owner: string): boolean {
  const [host, pidText] = owner.split(":");
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid)) return true; // another host: only its lease expiry tells
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export const wirePipelines: Wiring = async ({ config, sql, services }) => {
  const store = new SqlPipelineStore(sql);
  // Before any step starts, so the sandbox hides it from the first step on (see the function).
  await createAuditHeadFile(config.auditHeadFile);
  // The checkouts are hidden from steps like the work dir, each step sees its own run's again:
  // otherwise one project's step rewrote the checkout another project's steps then ran.
  const sandbox = sandboxOptions(config);
  const checkouts = checkoutsOf(config);
  const local = await LocalExecutor.create({
    root: config.workDir,
    artifacts: services.artifacts,
    sandbox: sandbox.mode,
    hide: sandbox.hide,
    writable: sandbox.writable,
    code: sandbox.code,
  });
  // Closers run last first: the step spawner ends after the pipelines' drivers have.
  services.closers.push(() => local.close());
  const secretKey = await loadSecretKey(config.home, config.secretKey);
  const executor = await wireExecutors(config, services, local, secretKey);
  const secrets = new SecretService(services.metadata, services.audit, store, new SecretBox(secretKey));
  // One token per run for its steps to call the API (MLflow logging): see RunTokens.
  const runTokens = new RunTokens(services.access);
  const git = new LocalGit({
    checkouts,
    // The checkouts are git's to write: shown, not hidden.
    wrap: gitSandbox({ ...sandbox, hide: serverPrivatePaths(config), checkouts }),
  });
  const engine: EngineDeps = {
    store,
    executor,
    executors: executor,
    artifacts: services.artifacts,
    workspace: new LocalWorkspace(services.artifacts, {
      hide: serverPrivatePaths(config),
      git: (dir) => git.listFiles(dir),
    }),
    owner: newLeaseOwner(),
    leaseMs: config.runLeaseMs,
    heartbeatMs: 1000,
    backoffMs: 1000,
    secrets: (project, names) => (names.length ? secrets.values(project, names) : Promise.resolve({})),
    secretFingerprints: (project, names) => secrets.fingerprints(project, names),
    tandemCode: tandemCodeIdentity,
    tracking: batchedTrackingLink(services, sql),
    builtinServices: services as unknown as BuiltinServices,
    // Looked up when a run needs it, so the order of AREA_WIRINGS does not matter.
    datasets: { resolve: (project, ref) => services.data.resolveForPipeline(project, ref) },
    references: withReferences(services),
    probe: new LocalEnvironmentProbe(hostSandbox(sandbox)),
    git,
    async stepApi(run) {
      const url = services.config.serverUrl ?? null;
      if (!url) return { url: null, token: null };
      // A policy in force may lower every step's token to tracking only (policies are an admin's).
      // Looked up when the run's token is made, once, not for each of its steps.
      const scope = async () => {
        const policies = Object.values(await services.registry.listPolicies(run.project));
        return policies.some((p) => p.step_token === "tracking") ? ("tracking" as const) : null;
      };
      return { url, token: await runTokens.issue({ ...run, scope }) };
    },
    stepApiLease: runTokens,
  };
  const pipelines = new PipelineService({
    metadata: services.metadata,
    audit: services.audit,
    engine,
    concurrency: config.concurrency,
    ownerAlive: leaseOwnerAlive,
  });
  pipelines.specs.checkOutbound = (url, what) => services.outbound.check(url, what);
  const triggers = new TriggerService(pipelines, store, git);
  services.pipelines = pipelines;
  services.secrets = secrets;
  services.pipelineTriggers = triggers;
  // Schedules are minute-grained; a 5 s tick starts a run within seconds of its time.
  const reportFired = (trigger: string) => (fired: FiredRun[], log: Logger) => {
    for (const f of fired) {
      if (f.runId) log.info({ trigger, pipeline: f.pipeline, run_id: f.runId }, "trigger started a run");
      else log.debug({ trigger, pipeline: f.pipeline, reason: f.reason }, "trigger started no run");
    }
  };
  services.background.push(
    everyInterval({
      name: "pipelines-schedules",
      intervalMs: 5000,
      immediately: true,
      tick: () => triggers.tickSchedules(),
      report: reportFired("schedule"),
    }),
    everyInterval({
      name: "pipelines-git-poll",
      intervalMs: 5000,
      immediately: true,
      tick: () => triggers.pollGit(),
      report: reportFired("git"),
    }),
  );
  services.closers.push(() => pipelines.close());
  // Runs whose driver died (kill -9, lost machine) are taken over once their lease expires.
  services.background.push(
    everyInterval({
      name: "pipelines-recovery",
      intervalMs: 5000,
      immediately: true,
      tick: () => pipelines.recoverOrphans(),
      report: (runIds, log) => {
        for (const runId of runIds) log.warn({ run_id: runId }, "took over a run whose driver stopped");
      },
    }),
  );
};
