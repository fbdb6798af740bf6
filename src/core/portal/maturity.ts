/**
 * Grades a project's MLOps maturity from its facts (see maturity-model.ts for the terms). Each
 * criterion returns the records that show it; a level is reached when every criterion of that level
 * and the levels below passes.
 */
import type {
  Criterion,
  EvidenceLink,
  MaturityFacts,
  MaturityLevel,
  MaturityReport,
  PipelineFacts,
  RunFacts,
  Sign,
  StepFacts,
} from "./maturity-model.js";

const DAY_MS = 86_400_000;
/** Google's level 0 "infrequent release iterations"; the issue asks for 90 days. */
const RELEASE_WINDOW_MS = 90 * DAY_MS;
/** Triggers that start training without a person: Google's level 1 "continuous training". */
const AUTOMATIC_TRIGGERS = new Set(["schedule", "data", "alert"]);
/** At most this many links per criterion: enough to follow, short enough to read. */
const MAX_EVIDENCE = 5;

const href = (project: string, ...rest: string[]) =>
  ["", "p", project, ...rest].map((s, i) => (i < 2 ? s : encodeURIComponent(s))).join("/");

export const isTrainingStep = (s: StepFacts) =>
  s.uses === "tandem/train" || /(^|[-_])(train|fit)($|[-_])/i.test(s.name);
export const isDataValidationStep = (s: StepFacts) =>
  s.uses === "tandem/validate" || /(^|[-_])(validate|validation)(-data)?($|[-_])/i.test(s.name);
const isTestStep = (s: StepFacts) =>
  /(^|[-_])tests?($|[-_])/i.test(s.name) ||
  /\b(npm (run )?test|pytest|vitest|jest|go test|cargo test)\b/.test(s.command ?? "");

const succeeded = (r: RunFacts) => r.status === "succeeded";
const stepOk = (status: string) => status === "succeeded";

function runLink(project: string, r: RunFacts, note: string): EvidenceLink {
  return { kind: "run", id: r.id, href: href(project, "pipeline-runs", r.id), note };
}

/** Grades `facts` as of `now` (ms). */
export function gradeMaturity(facts: MaturityFacts, now: number): MaturityReport {
  const p = facts.project;
  const criteria: Criterion[] = [
    orchestratedPipeline(facts),
    continuousTraining(facts),
    dataValidationGate(facts),
    modelValidationGate(facts),
    lineageComplete(facts),
    nonManualTrigger(facts),
    modelCd(facts),
    pipelineCi(facts),
    onlineCheck(facts),
    monitoringLoop(facts),
    servingChecks(facts),
  ];
  const levelPassed = (l: 1 | 2) => criteria.filter((c) => c.level <= l).every((c) => c.passed);
  const level: MaturityLevel = levelPassed(2) ? 2 : levelPassed(1) ? 1 : 0;
  return {
    project: p,
    level,
    passed: criteria.filter((c) => c.passed).length,
    total: criteria.length,
    criteria,
    signs: levelZeroSigns(facts, now),
    evaluated_at: now,
  };
}

function criterion(id: string, name: string, level: 1 | 2, evidence: EvidenceLink[], nextStep: string): Criterion {
  const passed = evidence.length > 0;
  return { id, name, level, passed, evidence: evidence.slice(0, MAX_EVIDENCE), next_step: passed ? null : nextStep };
}

/** A run of two or more steps that all ran in one go, each started by the one before (not by a person). */
function orchestratedPipeline(f: MaturityFacts): Criterion {
  const runs = f.runs.filter((r) => succeeded(r) && r.steps.length >= 2 && r.steps.every((s) => stepOk(s.status)));
  return criterion(
    "orchestrated_pipeline",
    "Orchestrated pipeline: two or more steps with no human between them",
    1,
    runs.map((r) => runLink(f.project, r, `${r.pipeline}: ${r.steps.length} steps, started by ${r.trigger.kind}`)),
    "Declare your steps as one pipeline in tandem.yaml (needs: between them) and let a trigger start it.",
  );
}

/** Training runs started by a schedule, new data or an alert. */
function continuousTraining(f: MaturityFacts): Criterion {
  const runs = f.runs.filter(
    (r) =>
      succeeded(r) &&
      AUTOMATIC_TRIGGERS.has(r.trigger.kind) &&
      (r.spec?.steps ?? []).some(
        (s) => isTrainingStep(s) && r.steps.some((x) => x.name === s.name && stepOk(x.status)),
      ),
  );
  return criterion(
    "continuous_training",
    "Continuous training: training runs started by schedule, data or alert triggers",
    1,
    runs.map((r) => runLink(f.project, r, `${r.pipeline} trained on a ${r.trigger.kind} trigger`)),
    "Add a schedule:, data: or alert: trigger to the pipeline that trains, and let it run once.",
  );
}

function stepsAfter(p: PipelineFacts, gate: StepFacts): StepFacts[] {
  return p.steps.filter((s) => s.upstream.includes(gate.name));
}

/** A data validation step that training waits for, so a failed validation stops the run. */
function dataValidationGate(f: MaturityFacts): Criterion {
  const evidence: EvidenceLink[] = [];
  for (const r of f.runs) {
    const spec = r.spec;
    if (!spec) continue;
    const gate = spec.steps.find((v) => isDataValidationStep(v) && stepsAfter(spec, v).some(isTrainingStep));
    if (!gate) continue;
    const ran = r.steps.find((s) => s.name === gate.name);
    if (!ran) continue;
    const trained = r.steps.some((s) => stepsAfter(spec, gate).some((t) => isTrainingStep(t) && t.name === s.name));
    if (stepOk(ran.status) && trained && succeeded(r)) {
      evidence.push(runLink(f.project, r, `${gate.name} ran before training and passed`));
    } else if (ran.status === "failed" && !r.steps.some((s) => isTrainingStepIn(spec, s.name) && stepOk(s.status))) {
      evidence.push(runLink(f.project, r, `${gate.name} failed and the run stopped before training`));
    }
  }
  return criterion(
    "data_validation_gate",
    "Data validation gate before training that stops the run on failure",
    1,
    evidence,
    "Add a tandem/validate step with expectations and make the training step need it.",
  );
}

const isTrainingStepIn = (p: PipelineFacts, name: string) => p.steps.some((s) => s.name === name && isTrainingStep(s));

/** A decision that compared the candidate with the deployed model (`beats:`) and applied the result. */
function modelValidationGate(f: MaturityFacts): Criterion {
  const decisions = f.decisions.filter((d) => d.checks.some((c) => c.kind === "beats" && c.outcome !== "pending"));
  return criterion(
    "model_validation_gate",
    "Model validation gate: compared with the production model, regressions blocked",
    1,
    decisions.map((d) => ({
      kind: "decision",
      id: d.id,
      href: href(f.project, "models", d.model, String(d.version)),
      note: `${d.model} v${d.version} → ${d.targetKind} ${d.targetName}: ${d.verdict} (beats ${d.checks.find((c) => c.kind === "beats")?.outcome})`,
    })),
    "Add `beats: champion` to the policy that governs your production alias, and promote through it.",
  );
}

/** A version whose lineage has parameters, data versions, a commit, an environment and metrics. */
function lineageComplete(f: MaturityFacts): Criterion {
  const complete = f.versions.filter(
    (v) =>
      v.sourceRunId !== null &&
      v.hasParams &&
      v.hasMetrics &&
      v.datasetVersions.length > 0 &&
      v.gitCommit !== null &&
      v.envDigest !== null,
  );
  return criterion(
    "lineage_complete",
    "Lineage complete: params, data versions, commit, environment and metrics",
    1,
    complete.map((v) => ({
      kind: "model_version",
      id: `${v.model}/${v.version}`,
      href: href(f.project, "models", v.model, String(v.version)),
      note: `${v.model} v${v.version}: ${v.datasetVersions.join(", ")} at ${v.gitCommit?.slice(0, 8)}`,
    })),
    "Register models from a pipeline step (tandem/register) in a git repository, with dataset:// inputs.",
  );
}

/** A trigger other than manual in the applied spec. */
function nonManualTrigger(f: MaturityFacts): Criterion {
  const spec = f.spec;
  const pipelines = spec?.pipelines.filter((p) => p.triggers.length > 0) ?? [];
  return criterion(
    "non_manual_trigger",
    "A non-manual trigger configured",
    1,
    pipelines.map((p) => ({
      kind: "spec",
      id: `${spec!.version}`,
      href: href(f.project, "pipeline-runs"),
      note: `${p.name}: ${p.triggers.join(", ")} (spec v${spec!.version})`,
    })),
    "Add triggers: (schedule, git, data or alert) to a pipeline and `tandem apply`.",
  );
}

/** A model deployment that succeeded for a version that passed its policies with no human approval. */
function modelCd(f: MaturityFacts): Criterion {
  const byPolicyAlone = f.decisions.filter(
    (d) =>
      d.verdict === "pass" &&
      d.action === "promote" &&
      d.checks.length > 0 &&
      d.checks.every((c) => c.kind !== "approvals" || c.waived),
  );
  const deployments = f.deployments.filter(
    (x) =>
      x.kind === "model" &&
      x.outcome === "succeeded" &&
      byPolicyAlone.some((d) => d.model === x.model && d.version === x.version),
  );
  return criterion(
    "model_cd",
    "Model CD: a validated version reaches serving behind only a policy",
    1,
    deployments.map((x) => ({
      kind: "deployment",
      id: x.id,
      href: href(f.project, "endpoints", x.target),
      note: `${x.model} v${x.version} on ${x.target} (${x.reason}) after a policy decision with no human approval`,
    })),
    "Let a pipeline register and deploy under a policy whose checks are all automatic (metrics, beats, canary).",
  );
}

/** A git-triggered run of the pipeline code that ran its tests. */
function pipelineCi(f: MaturityFacts): Criterion {
  const runs = f.runs.filter(
    (r) =>
      succeeded(r) &&
      r.trigger.kind === "git" &&
      r.commit !== null &&
      (r.spec?.steps ?? []).some((s) => isTestStep(s) && r.steps.some((x) => x.name === s.name && stepOk(x.status))),
  );
  return criterion(
    "pipeline_ci",
    "Pipeline CI: a git-triggered run of the pipeline code with its tests",
    2,
    runs.map((r) => runLink(f.project, r, `${r.pipeline} at ${r.commit!.slice(0, 8)} ran its tests on a push`)),
    "Add a git: trigger to a pipeline with a test step and point your repository's push webhook at Tandem.",
  );
}

/** A deployment judged online: a canary or shadow that was promoted or rolled back on its evidence. */
function onlineCheck(f: MaturityFacts): Criterion {
  const canaryDecisions = f.decisions.filter((d) =>
    d.checks.some((c) => c.kind === "canary" && c.outcome !== "pending"),
  );
  const evidence: EvidenceLink[] = canaryDecisions.map((d) => ({
    kind: "decision",
    id: d.id,
    href: href(f.project, "models", d.model, String(d.version)),
    note: `${d.model} v${d.version}: canary ${d.checks.find((c) => c.kind === "canary")?.outcome}, ${d.verdict}`,
  }));
  for (const x of f.deployments) {
    if (x.kind === "model" && /canary|shadow|promote|slo breach/i.test(x.reason) && x.outcome !== "in_progress") {
      evidence.push({
        kind: "deployment",
        id: x.id,
        href: href(f.project, "endpoints", x.target),
        note: `${x.target}: ${x.reason} → ${x.outcome}`,
      });
    }
  }
  return criterion(
    "online_check",
    "Gated deployment with an online check (canary or shadow)",
    2,
    evidence,
    "Give the endpoint a canary: (alias and percent) with SLOs, and let a new version go through it.",
  );
}

/** An alert that started a run, and that run ended in a decision on the version it produced. */
function monitoringLoop(f: MaturityFacts): Criterion {
  const evidence: EvidenceLink[] = [];
  for (const r of f.runs) {
    if (r.trigger.kind !== "alert" || !r.trigger.name) continue;
    const alert = f.alerts.find((a) => a.name === r.trigger.name && a.startsAt <= r.createdAt);
    if (!alert) continue;
    const produced = f.versions.filter((v) => v.pipelineRunId === r.id);
    const decision = f.decisions.find((d) => produced.some((v) => v.model === d.model && v.version === d.version));
    if (!decision) continue;
    evidence.push({
      kind: "alert",
      id: alert.id,
      href: href(f.project, "alerts", alert.id),
      note: `${alert.name} → run ${r.id.slice(0, 8)} → ${decision.model} v${decision.version}: ${decision.verdict}`,
    });
    evidence.push(runLink(f.project, r, `started by alert ${alert.name}`));
  }
  return criterion(
    "monitoring_loop",
    "Monitoring loop: a monitor's alert triggered a pipeline run that ended in a decision",
    2,
    evidence,
    "Add a monitor on the endpoint and a pipeline with `triggers: [alert: <monitor>]` that registers under a policy.",
  );
}

/** Requests measured on a version before it served everyone (canary or shadow slot latency). */
function servingChecks(f: MaturityFacts): Criterion {
  const endpoints = f.endpoints.filter((e) => e.preProductionRequests > 0);
  return criterion(
    "serving_checks",
    "Serving checks before production (smoke, load or latency recorded)",
    2,
    endpoints.map((e) => ({
      kind: "endpoint",
      id: e.name,
      href: href(f.project, "endpoints", e.name),
      note: `${e.preProductionRequests} requests measured on a canary or shadow before production`,
    })),
    "Route a share of traffic to a canary or shadow so its latency and errors are measured before it serves all.",
  );
}

function levelZeroSigns(f: MaturityFacts, now: number): Sign[] {
  const signs: Sign[] = [];
  const orphans = f.versions.filter((v) => v.sourceRunId === null);
  if (orphans.length > 0) {
    signs.push({
      id: "version_without_run",
      name: "A model version with no producing run",
      evidence: orphans.slice(0, MAX_EVIDENCE).map((v) => ({
        kind: "model_version",
        id: `${v.model}/${v.version}`,
        href: href(f.project, "models", v.model, String(v.version)),
        note: `${v.model} v${v.version} was registered without a run`,
      })),
    });
  }
  const silent = f.endpoints.filter((e) => e.predictions === 0);
  if (silent.length > 0) {
    signs.push({
      id: "endpoint_without_logging",
      name: "An endpoint without prediction logging",
      evidence: silent.slice(0, MAX_EVIDENCE).map((e) => ({
        kind: "endpoint",
        id: e.name,
        href: href(f.project, "endpoints", e.name),
        note: `${e.name} has logged no predictions`,
      })),
    });
  }
  const recent = f.deployments.filter((x) => x.outcome === "succeeded" && x.startedAt >= now - RELEASE_WINDOW_MS);
  if (recent.length === 0) {
    const last = f.deployments.filter((x) => x.outcome === "succeeded").sort((a, b) => b.startedAt - a.startedAt)[0];
    signs.push({
      id: "no_recent_release",
      name: "No release in 90 days",
      evidence: last
        ? [
            {
              kind: "deployment",
              id: last.id,
              href: href(f.project, "endpoints", last.target),
              note: `last release ${Math.floor((now - last.startedAt) / DAY_MS)} days ago`,
            },
          ]
        : [],
    });
  }
  return signs;
}
