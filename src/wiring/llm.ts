/**
 * The LLM area: the prompt registry, the LLM endpoints' gateway (on serving's runtime, logger and
 * controller), traces (OTLP ingest, the endpoint's own spans, retention), and project LLM settings
 * from tandem.yaml's `llm:`. Serving reaches prompts through PromptAwareResolver and
 * PromptAwareRunnerFactory: an endpoint whose model is `prompt:NAME` resolves and loads prompt
 * versions, every other one goes to the registry and the artifact store as before.
 */
import { NotFoundError } from "../core/errors.js";
import { LlmGateway } from "../core/llm/gateway.js";
import { LoggedCallScorer, PromptRollbackPolicy } from "../core/llm/closed-loop.js";
import type { LlmSettings, ModelPrice } from "../core/llm/model.js";
import { PromptRunner, promptServable } from "../core/llm/prompt-runner.js";
import { PromptService } from "../core/llm/prompts.js";
import { SpanWriter } from "../core/llm/span-writer.js";
import { TraceService } from "../core/llm/traces.js";
import { nowMs } from "../core/ids.js";
import type { ModelSelector } from "../core/serving/model.js";
import type { ModelResolver, ServableVersion } from "../core/serving/ports.js";
import type { ModelRunner, RunnerFactory } from "../core/serving/runtime.js";
import { PROMPT_MODEL_PREFIX } from "../core/serving/service.js";
import { PolicyRefusedError } from "../core/errors.js";
import type { PromptVersion } from "../core/llm/model.js";
import type { Services } from "../server/services.js";
import { SqlPromptStore } from "../stores/metadata/prompt-store.js";
import { SqlTraceStore } from "../stores/metadata/trace-store.js";
import type { Wiring } from "./kit.js";
import { everyInterval } from "../server/background.js";
import { problemOf, type SpecProblem } from "../core/pipelines/spec-area-checks.js";

export interface LlmArea {
  prompts: PromptService;
  traces: TraceService;
  gateway: LlmGateway;
  spans: SpanWriter;
  settings(project: string): Promise<LlmSettings | null>;
  /** Days spans are kept in projects that set none (TANDEM_TRACE_RETENTION_DAYS, default 30). */
  traceRetentionDays: number;
}

declare module "../server/services.js" {
  interface Services {
    llm: LlmArea;
  }
}

declare module "../core/pipelines/builtins/contract.js" {
  interface BuiltinServices {
    llm: LlmArea;
  }
}

const promptName = (model: string) => model.slice(PROMPT_MODEL_PREFIX.length);

/** Serving's resolver, with `prompt:NAME` models resolved in the prompt registry. */
export class PromptAwareResolver implements ModelResolver {
  constructor(
    private readonly models: ModelResolver,
    private readonly services: Services,
  ) {}

  private get prompts(): PromptService {
    const llm = (this.services as Partial<Services>).llm;
    if (!llm) throw new NotFoundError("the prompt registry is not available in this server");
    return llm.prompts;
  }

  async resolve(project: string, model: string, selector: ModelSelector): Promise<ServableVersion> {
    if (!model.startsWith(PROMPT_MODEL_PREFIX)) return this.models.resolve(project, model, selector);
    const ref = `${promptName(model)}@${selector.kind === "alias" ? selector.alias : selector.version}`;
    return promptServable(await this.prompts.resolve(project, ref));
  }

  async checkDeployment(input: Parameters<ModelResolver["checkDeployment"]>[0]): Promise<void> {
    if (!input.model.startsWith(PROMPT_MODEL_PREFIX)) return this.models.checkDeployment(input);
    const version = await this.prompts.resolve(input.project, `${promptName(input.model)}@${input.version}`);
    const decision = await this.prompts.decide(
      input.project,
      version,
      { kind: "endpoint", name: input.endpoint },
      input.policies.find((p): p is string => !!p) ?? null,
      input.follows,
    );
    if (decision.verdict !== "pass")
      throw new PolicyRefusedError(
        `policy refused ${version.name}@${version.version} on endpoint ${input.endpoint}: ${decision.checks
          .filter((c) => c.outcome !== "pass")
          .map((c) => `${c.check} (${c.detail})`)
          .join("; ")}`,
        { decision },
      );
  }

  async checkEndpointRollback(input: Parameters<ModelResolver["checkEndpointRollback"]>[0]): Promise<void> {
    if (!input.model.startsWith(PROMPT_MODEL_PREFIX)) return this.models.checkEndpointRollback(input);
    await this.prompts.checkPinnedRollback(
      input.project,
      `${promptName(input.model)}@${input.version}`,
      input.endpoint,
      { actor: input.actor, role: input.role },
    );
  }

  async rollbackAlias(input: Parameters<ModelResolver["rollbackAlias"]>[0]): Promise<void> {
    if (!input.model.startsWith(PROMPT_MODEL_PREFIX)) return this.models.rollbackAlias(input);
    await this.prompts.rollbackAlias(
      input.actor,
      input.project,
      promptName(input.model),
      input.alias,
      input.version,
      input.reason,
      { role: input.role, automatic: input.automatic },
    );
  }

  async promoteAlias(input: Parameters<ModelResolver["promoteAlias"]>[0]): Promise<void> {
    if (!input.model.startsWith(PROMPT_MODEL_PREFIX)) return this.models.promoteAlias(input);
    await this.prompts.setAlias(
      input.actor,
      input.project,
      `${promptName(input.model)}@${input.version}`,
      input.alias,
      {
        policy: input.policy,
      },
    );
  }

  previousAliasVersion(project: string, model: string, alias: string): Promise<number | null> {
    if (!model.startsWith(PROMPT_MODEL_PREFIX)) return this.models.previousAliasVersion(project, model, alias);
    return this.prompts.previousAliasVersion(project, promptName(model), alias);
  }
}

/** Serving's runner factory, with prompt versions loaded as PromptRunners. */
export class PromptAwareRunnerFactory implements RunnerFactory {
  constructor(private readonly models: RunnerFactory) {}

  load(version: ServableVersion): Promise<ModelRunner> {
    if (version.format !== "prompt") return this.models.load(version);
    return Promise.resolve(new PromptRunner(version, version.payload as PromptVersion));
  }
}

export const wireLlm: Wiring = ({ config, sql, services }) => {
  const promptStore = new SqlPromptStore(sql);
  const traceStore = new SqlTraceStore(sql);
  const prompts = new PromptService(
    services.metadata,
    services.audit,
    promptStore,
    // The policies in force, as the registry keeps them (only an admin changes them).
    { policies: (project) => services.registry.listPolicies(project) },
  );
  const traces = new TraceService(traceStore, promptStore);
  const spans = new SpanWriter(traceStore);
  const cache = new Map<string, { at: number; value: LlmSettings | null }>();
  // Settings change only on `tandem apply`; a 5 s cache keeps the request path off the database.
  const settings = async (project: string): Promise<LlmSettings | null> => {
    const hit = cache.get(project);
    if (hit && nowMs() - hit.at < 5000) return hit.value;
    const value = await promptStore.getSettings(project);
    cache.set(project, { at: nowMs(), value });
    return value;
  };
  const prices = async (project: string): Promise<Record<string, ModelPrice>> =>
    (await settings(project))?.prices ?? {};
  // The upstream's API key, read and decrypted once per 5 s instead of on every call (a database
  // read and an AES-GCM open each): a rotated key is in use within 5 s. A missing one is not kept.
  const keys = new Map<string, { at: number; value: string }>();
  const upstreamKey = async (project: string, name: string): Promise<string> => {
    const id = `${project}\u0000${name}`;
    const hit = keys.get(id);
    if (hit && nowMs() - hit.at < 5000) return hit.value;
    const value = (await services.secrets.values(project, [name]))[name]!;
    if (keys.size >= 1000) keys.clear();
    keys.set(id, { at: nowMs(), value });
    return value;
  };
  const gateway = new LlmGateway({
    runtime: services.serving.runtime,
    logger: services.serving.logger,
    spans,
    secret: upstreamKey,
    prices,
    fetcher: (url, init) => services.outbound.fetch(url, "LLM upstream", init),
    bufferedFetcher: (url, init) => services.outbound.fetchBuffered(url, "LLM upstream", init),
  });
  services.llm = {
    prompts,
    traces,
    gateway,
    spans,
    settings,
    traceRetentionDays: config.traceRetentionDays,
  };
  // Before serving deploys them: an LLM endpoint's upstream must pass the outbound guard (SSRF).
  // A check `tandem validate` runs too, so both refuse it at the field's file:line:column.
  services.pipelines?.specs.checkers.push(async (spec) => {
    const problems: SpecProblem[] = [];
    for (const [name, e] of Object.entries(spec.endpoints ?? {})) {
      if (!e.llm) continue;
      const field = `endpoints.${name}.llm.upstream`;
      try {
        await services.outbound.check(e.llm.upstream, field);
      } catch (error) {
        const problem = problemOf(["endpoints", name, "llm", "upstream"], error);
        if (!problem) throw error;
        problems.push(problem);
      }
    }
    return problems;
  });
  // `tandem apply`: the spec's `llm:` block (price table, trace retention) becomes the project's settings.
  services.pipelines?.specs.listeners.push(async (_actor, project, spec) => {
    const llm = spec.llm;
    await services.metadata.transaction((tx) =>
      promptStore.putSettings(
        {
          project,
          prices: (llm?.prices ?? {}) as Record<string, ModelPrice>,
          traceRetentionDays: llm?.trace_retention_days ?? null,
          updatedAt: nowMs(),
        },
        tx,
      ),
    );
    cache.delete(project);
  });
  services.background.push(
    everyInterval({
      name: "trace-retention",
      intervalMs: 3_600_000,
      immediately: true,
      tick: () => traces.sweep(config.traceRetentionDays),
      report: (spans, log) => {
        if (spans > 0) log.info({ spans }, "deleted trace spans past their retention");
      },
    }),
  );
  wireClosedLoop(services, promptStore);
  services.closers.push(() => spans.close());
};

/**
 * The prompt closed loop: monitors run sampled evaluations on logged calls and watch trace streams;
 * a firing alert first starts its pipelines (an eval pipeline, say), then the policies whose
 * `rollback.on_alert` names it move their prompt aliases back.
 */
function wireClosedLoop(services: Services, promptStore: SqlPromptStore): void {
  const monitors = (services as Partial<Services>).monitors;
  if (monitors) {
    monitors.callScorer = new LoggedCallScorer({
      fetcher: (url, init) => services.outbound.fetch(url, "LLM judge", init),
      secret: async (project, name) => (await services.secrets.values(project, [name]))[name]!,
    });
    monitors.traceStreams = services.llm.traces;
  }
  const alerts = (services as Partial<Services>).alerts;
  if (!alerts) return;
  const rollback = new PromptRollbackPolicy(services.llm.prompts, promptStore, {
    policies: (project) => services.registry.listPolicies(project),
  });
  const log = services.logger.child({ area: "prompt-loop" });
  const pipelines = alerts.triggerSink;
  alerts.triggerSink = {
    alertFired: async (alert) => {
      await pipelines?.alertFired(alert);
      const { moves, refused } = await rollback.alertFired(alert);
      for (const m of moves)
        log.warn(
          { project: alert.project, alert_id: alert.id, ...m },
          `policy ${m.policy} rolled ${m.prompt}@${m.alias} back from version ${m.fromVersion} to ${m.toVersion}`,
        );
      for (const r of refused)
        log.error(
          { project: alert.project, alert_id: alert.id, ...r },
          `policy ${r.policy} could not roll ${r.prompt}@${r.alias} back to version ${r.toVersion}: ${r.reason}`,
        );
    },
  };
}
