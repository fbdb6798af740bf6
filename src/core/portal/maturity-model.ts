/**
 * Maturity: the project's MLOps level after Google's "MLOps: Continuous delivery and automation
 * pipelines in machine learning" (level 0 manual, level 1 ML pipeline automation, level 2 CI/CD
 * pipeline automation), graded from the records Tandem keeps of what actually ran — never from a
 * questionnaire.
 *
 * Glossary:
 * - **Facts** — what the store hands the grader: runs with their steps, the applied spec, model
 *   versions with lineage, decisions, deployments, endpoints and alerts. Plain data, so fixture
 *   histories can be written by hand.
 * - **Criterion** — one property Google names for a level, with the evidence (links to records) that
 *   shows it and, when it fails, the next step to take.
 * - **Sign** — a level-0 symptom (a version no run produced, an endpoint that logs no predictions, no
 *   release in 90 days). Signs are reported; they do not lower the level on their own.
 */

export type MaturityLevel = 0 | 1 | 2;

export type EvidenceKind = "run" | "spec" | "decision" | "alert" | "deployment" | "model_version" | "endpoint";

/** A link to the record that shows a criterion (or a sign). `href` is the UI path of that record. */
export interface EvidenceLink {
  kind: EvidenceKind;
  id: string;
  href: string;
  note: string;
}

export interface Criterion {
  id: string;
  name: string;
  level: 1 | 2;
  passed: boolean;
  evidence: EvidenceLink[];
  /** What to do to pass, or null when passed. */
  next_step: string | null;
}

export interface Sign {
  id: string;
  name: string;
  evidence: EvidenceLink[];
}

export interface MaturityReport {
  project: string;
  level: MaturityLevel;
  /** Criteria passed / all criteria (`level 2 (11/11 criteria)`). */
  passed: number;
  total: number;
  criteria: Criterion[];
  signs: Sign[];
  evaluated_at: number;
}

export interface StepFacts {
  /** The step's key in the spec. */
  name: string;
  /** `tandem/train`, `tandem/validate`, … or null for a `run:` script. */
  uses: string | null;
  /** Every step this one waits for, directly or not. */
  upstream: string[];
  /** The step's script (for `run:` steps), to recognise test commands. */
  command: string | null;
}

export interface PipelineFacts {
  name: string;
  /** Configured trigger kinds other than manual: schedule, git, data, alert. */
  triggers: string[];
  steps: StepFacts[];
}

export interface SpecFacts {
  version: number;
  pipelines: PipelineFacts[];
  /** Policies that compare a candidate with a deployed model (`beats:`), by name. */
  comparingPolicies: string[];
}

export interface RunStepFacts {
  name: string;
  status: string;
}

export interface RunFacts {
  id: string;
  pipeline: string;
  status: string;
  trigger: { kind: string; name: string | null };
  commit: string | null;
  createdAt: number;
  /** The run's steps in its own spec version (so an old run is read by the spec it ran). */
  spec: PipelineFacts | null;
  steps: RunStepFacts[];
}

export interface VersionFacts {
  model: string;
  version: number;
  /** The tracking run that produced the version, or null (registered by hand). */
  sourceRunId: string | null;
  pipelineRunId: string | null;
  datasetVersions: string[];
  gitCommit: string | null;
  envDigest: string | null;
  /** Whether the source run logged parameters and metrics. */
  hasParams: boolean;
  hasMetrics: boolean;
  createdAt: number;
}

export interface DecisionFacts {
  id: string;
  model: string;
  version: number;
  targetKind: string;
  targetName: string;
  verdict: string;
  action: string;
  checks: Array<{ kind: string; outcome: string; policy: string; waived: boolean }>;
  at: number;
}

export interface DeploymentFacts {
  id: string;
  kind: string;
  target: string;
  model: string | null;
  version: number | null;
  reason: string;
  actor: string;
  outcome: string;
  startedAt: number;
  details: Record<string, unknown>;
}

export interface EndpointFacts {
  name: string;
  hasCanary: boolean;
  hasShadow: boolean;
  /** Predictions logged on the endpoint (any slot). */
  predictions: number;
  /** Requests measured (latency histograms) on canary or shadow slots, before those versions served all. */
  preProductionRequests: number;
}

export interface AlertFacts {
  id: string;
  name: string;
  startsAt: number;
}

export interface MaturityFacts {
  project: string;
  spec: SpecFacts | null;
  runs: RunFacts[];
  versions: VersionFacts[];
  decisions: DecisionFacts[];
  deployments: DeploymentFacts[];
  endpoints: EndpointFacts[];
  alerts: AlertFacts[];
}
