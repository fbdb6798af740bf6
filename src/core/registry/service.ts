/**
 * The model registry (the API others call; catalog.ts ← promotion.ts ← this file): registered models, immutable content-addressed versions, aliases with
 * history, evaluations, lineage, and the policy gate every alias or endpoint goes through
 * (promotion logic in promotion.ts). Every change goes through `audited`.
 *
 * ## Mapping the MLflow model-registry API onto this service (for the Tracking area's routes)
 * | MLflow (model_registry.proto)              | RegistryService                                         |
 * |--------------------------------------------|---------------------------------------------------------|
 * | CreateRegisteredModel                      | `createModel` (ConflictError if it exists)              |
 * | GetRegisteredModel / RenameRegisteredModel | `getModel` / `renameModel`                              |
 * | UpdateRegisteredModel / DeleteRegisteredModel | `updateModel({description})` / `deleteModel`         |
 * | SearchRegisteredModels (name LIKE, tags)   | `searchModels({nameLike, tags, limit, offset, orderBy})`|
 * | Set/DeleteRegisteredModelTag               | `setModelTag` / `deleteModelTag`                        |
 * | CreateModelVersion (source, run_id)        | `registerVersion({artifact, runId})` — map `source` to the run's stored artifact (blob or tree) |
 * | GetModelVersion / UpdateModelVersion       | `getVersion` / `updateVersion({description})`           |
 * | DeleteModelVersion                         | `deleteVersion` (refused while an alias points at it)   |
 * | SearchModelVersions (name=, run_id=)       | `searchVersions({modelName, runId})`                    |
 * | GetLatestVersions (stages)                 | `latestVersions(project, name, stages)`                 |
 * | TransitionModelVersionStage (deprecated)   | `requestStage`: Staging/Production under the policies; taking the newest out is a rollback (rollback.ts) |
 * | Set/DeleteModelVersionTag                  | `setVersionTag` / `deleteVersionTag`                    |
 * | SetRegisteredModelAlias                    | `setAlias` — THROWS PolicyRefusedError when policies refuse or approvals are pending |
 * | DeleteRegisteredModelAlias                 | `deleteAlias`                                           |
 * | GetModelVersionByAlias                     | `resolve(project, "name@alias")`                        |
 * | GetModelVersionDownloadUri                 | the version's `artifact` (sha256, storage, file name)    |
 * MLflow's `version` is a string on the wire; here it is a number. `user_id` is `author`.
 *
 * ## What others call
 * - Serving: `resolve`, `checkDeployment`, `rollbackAlias`, `checkEndpointRollback`, `previousAliasVersion`.
 * - Pipelines: `policyChanges` + `changePolicies` (from `tandem apply`: admins only), `registerVersion`
 *   + `promote` (tandem/register), `recordEvaluation` with `provenance` (tandem/evaluate,
 *   tandem/fairness, tandem/eval), `validatePolicies` (tandem validate).
 * - Prompts (the LLM area): `governing(project, scope)` and the pure `evaluatePolicies` (policy.ts)
 *   with a scope whose `prompts` are `name@alias` (policy-scope.ts).
 */
import { audited } from "../governance/audited.js";
import { UNKNOWN_AUTHOR } from "./policy-approvals.js";
import { SYSTEM_USER } from "../governance/model.js";
import { InvalidInputError, NotFoundError } from "../errors.js";
import { newId, nowMs } from "../ids.js";
import { inspectArtifact, type ArtifactInput } from "./artifact.js";
import { buildModelCard, type ModelCard } from "./card.js";
import { tagKey, type RegistryDeps } from "./catalog.js";
import { collectLineage, lineageGraph, withRequirements, type LineageGraph } from "./lineage.js";
import type { Evaluation, EvaluationCurves, FairnessResult, ModelVersion } from "./model.js";
import { policyProblems, type PolicySpec } from "./policy.js";
import {
  assertMayChangePolicies,
  auditDiff,
  diffPolicies,
  type PolicyChange,
  type PolicyChanger,
} from "./policy-admin.js";
import { LINEAGE_TAGS } from "./ports.js";
import { Rollbacks } from "./rollback.js";
import { checkModelName, formatRef } from "./refs.js";

export interface RegisterVersionInput {
  actor: string;
  project: string;
  name: string;
  artifact: ArtifactInput;
  /** The run that produced it (default: a run is recorded for the registration). */
  runId?: string | null;
  description?: string;
  intendedUse?: string;
  tags?: Record<string, string>;
  /** What it was registered from, as an MLflow client named it (kept for MLflow's `source`). */
  source?: { uri: string; isFile: boolean } | null;
  /** Without `runId`: lineage facts to put on the run recorded for the registration. */
  lineage?: { datasetVersions?: string[]; gitCommit?: string | null };
  /** The pipeline run whose step registers it (tandem/register): its person becomes the author, via system. */
  pipelineRunId?: string | null;
}

/** Where an evaluation came from when a pipeline step made it (only built-in steps pass this). */
export interface EvaluationProvenance {
  pipelineRunId: string;
  step: string;
  stepRunId: string;
}

export interface RegisterResult {
  version: ModelVersion;
  /** False when the same artifact from the same run was already the latest version (idempotent). */
  created: boolean;
}

/** Where evaluations of a not-yet-registered file wait (model names never contain ':'). */
const artifactKey = (sha256: string): string => `sha256:${sha256}`;

export class RegistryService extends Rollbacks {
  constructor(deps: RegistryDeps) {
    super(deps, deps.policies ?? { policies: (project) => deps.store.getPolicies(project) });
  }

  // ---- versions ----

  /** Registers an uploaded artifact as the next version (creating the model on first use). */
  async registerVersion(input: RegisterVersionInput): Promise<RegisterResult> {
    const { actor, project, name } = input;
    checkModelName(name);
    for (const k of Object.keys(input.tags ?? {})) tagKey(k);
    const inspected = await inspectArtifact(this.deps.artifacts, input.artifact);
    let runId = input.runId ?? null;
    if (runId !== null && !(await this.deps.lineage.getRun(project, runId)))
      throw new NotFoundError(`run ${runId} does not exist in project ${project}`);
    if (runId === null) {
      runId = await this.deps.lineage.createRegistrationRun(project, {
        name: `register ${name}`,
        actor,
        tags: {
          "tandem.registration": name,
          "tandem.artifact_sha256": inspected.artifact.sha256,
          ...(input.lineage?.datasetVersions?.length
            ? { [LINEAGE_TAGS.datasetVersions]: JSON.stringify(input.lineage.datasetVersions) }
            : {}),
          ...(input.lineage?.gitCommit ? { [LINEAGE_TAGS.gitCommit]: input.lineage.gitCommit } : {}),
        },
      });
    }
    const collected = await collectLineage(this.deps.lineage, project, runId);
    const lineage = withRequirements(collected.snapshot, inspected.requirements);
    const who = await this.authorship(input, runId);
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      const now = nowMs();
      const model = { project, name, description: "", owner: actor, tags: {}, createdAt: now, updatedAt: now };
      if (await this.deps.store.insertModel(model, tx)) {
        await record({ actor, project, action: "model.create", target: `model:${name}` });
      }
      await this.deps.store.lockModel(project, name, tx);
      const latest = await this.deps.store.latestVersion(project, name, tx);
      if (
        latest &&
        latest.artifact.sha256 === inspected.artifact.sha256 &&
        latest.sourceRunId === runId &&
        input.runId
      ) {
        return { version: latest, created: false };
      }
      const version: ModelVersion = {
        project,
        modelName: name,
        // Never a number this name used before, also by a deleted version or model: what was approved,
        // evaluated or deployed as that number stays with the file it was.
        version: await this.deps.store.nextVersionNumber(project, name, tx),
        description: input.description ?? "",
        intendedUse: input.intendedUse ?? "",
        artifact: inspected.artifact,
        signature: inspected.signature,
        source: input.source ?? null,
        sourceRunId: runId,
        author: who.author,
        via: who.via,
        authorNote: who.note,
        tags: input.tags ?? {},
        stage: "None",
        lineage,
        createdAt: now,
        updatedAt: now,
      };
      await this.deps.store.insertVersion(version, tx);
      await this.touchModel(tx, project, name, now);
      // Evaluations a pipeline made of this very file before registering it follow it into the version.
      for (const e of await this.deps.store.listEvaluations(project, artifactKey(version.artifact.sha256), 0, tx)) {
        await this.deps.store.insertEvaluation({ ...e, id: newId(), modelName: name, version: version.version }, tx);
      }
      await record({
        actor,
        project,
        action: "model.version.register",
        target: `model:${formatRef(name, version.version)}`,
        summary: {
          sha256: version.artifact.sha256,
          format: version.artifact.format,
          run_id: runId,
          datasets: version.lineage.datasetVersions,
          author: version.author,
          via: version.via,
        },
      });
      return { version, created: true };
    });
  }

  /**
   * The person behind a new version. A pipeline step registers on behalf of the person behind its run
   * (who started it, applied the spec whose trigger started it, or pushed the commit); the platform
   * itself (`system`, e.g. a step's MLflow client) likewise when its source run is a step's run.
   */
  private async authorship(
    input: RegisterVersionInput,
    runId: string | null,
  ): Promise<{ author: string; via: string | null; note: string }> {
    const facts = this.deps.pipelines;
    let pipelineRunId = input.pipelineRunId ?? null;
    if (!pipelineRunId && facts && input.actor === SYSTEM_USER && runId)
      pipelineRunId = (await facts.stepOfRun(input.project, runId))?.pipelineRunId ?? null;
    const person = pipelineRunId && facts ? await facts.personBehind(input.project, pipelineRunId) : null;
    // Nobody known: the author is who pushed as git saw them, or unknown; never a principal
    // (`system` excluded nobody, so an approver pushing from an unmapped login approved their own).
    if (person)
      return { author: person.user ?? person.identity ?? UNKNOWN_AUTHOR, via: SYSTEM_USER, note: person.note };
    return { author: input.actor, via: null, note: `${input.actor} registered it` };
  }

  /** Which versions were trained on this dataset version (reverse lineage). */
  versionsTrainedOn(project: string, datasetRef: string): Promise<ModelVersion[]> {
    return this.deps.store.versionsByDataset(project, datasetRef);
  }

  async lineage(project: string, ref: string): Promise<LineageGraph> {
    const version = await this.resolve(project, ref);
    return lineageGraph(version, await collectLineage(this.deps.lineage, project, version.sourceRunId));
  }

  /** The model card of a version (render with `modelCardMarkdown` for people). */
  async card(project: string, ref: string): Promise<ModelCard> {
    const version = await this.resolve(project, ref);
    const { modelName: name, version: n } = version;
    const store = this.deps.store;
    return buildModelCard({
      model: await this.getModel(project, name),
      version,
      aliases: await store.listAliases(project, name),
      sourceRun: version.sourceRunId ? await this.deps.lineage.getRun(project, version.sourceRunId) : null,
      evaluations: await store.listEvaluations(project, name, n),
      approvals: await store.listApprovals(project, name, n),
      decisions: await store.listDecisions(project, name, n),
    });
  }

  // ---- evaluations ----

  async recordEvaluation(input: {
    actor: string;
    project: string;
    ref: string;
    dataset: string;
    metrics: Record<string, number>;
    fairness?: Record<string, FairnessResult>;
    curves?: EvaluationCurves | null;
    runId?: string | null;
    /** Set only by built-in evaluation steps; anything else is manual evidence. */
    provenance?: EvaluationProvenance | null;
  }): Promise<Evaluation> {
    if (!input.dataset) throw new InvalidInputError("dataset: name the evaluation data (e.g. flights@3)");
    for (const [k, v] of Object.entries(input.metrics))
      if (!Number.isFinite(v)) throw new InvalidInputError(`metrics.${k}: expected a finite number`);
    const v = await this.resolve(input.project, input.ref);
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      const e: Evaluation = {
        id: newId(),
        project: input.project,
        modelName: v.modelName,
        version: v.version,
        dataset: input.dataset,
        metrics: input.metrics,
        fairness: input.fairness ?? {},
        curves: input.curves ?? null,
        runId: input.runId ?? null,
        createdBy: input.actor,
        createdAt: nowMs(),
        ...provenanceOf(input.provenance),
      };
      await this.deps.store.insertEvaluation(e, tx);
      await record({
        actor: input.actor,
        project: input.project,
        action: "model.version.evaluate",
        target: `model:${formatRef(v.modelName, v.version)}`,
        summary: { dataset: e.dataset, metrics: e.metrics, source: e.source },
      });
      return e;
    });
  }

  /**
   * Records an evaluation of a model file not registered yet (a `tandem/evaluate` step before
   * `tandem/register`), keyed by the file's sha256; registering that file copies it to the version.
   */
  async recordArtifactEvaluation(input: {
    actor: string;
    project: string;
    artifactSha256: string;
    dataset: string;
    metrics: Record<string, number>;
    fairness?: Record<string, FairnessResult>;
    curves?: EvaluationCurves | null;
    runId?: string | null;
    provenance?: EvaluationProvenance | null;
  }): Promise<Evaluation> {
    if (!/^[0-9a-f]{64}$/.test(input.artifactSha256))
      throw new InvalidInputError("artifact sha256: expected 64 lowercase hex");
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      const e: Evaluation = {
        id: newId(),
        project: input.project,
        modelName: artifactKey(input.artifactSha256),
        version: 0,
        dataset: input.dataset,
        metrics: input.metrics,
        fairness: input.fairness ?? {},
        curves: input.curves ?? null,
        runId: input.runId ?? null,
        createdBy: input.actor,
        createdAt: nowMs(),
        ...provenanceOf(input.provenance),
      };
      await this.deps.store.insertEvaluation(e, tx);
      await record({
        actor: input.actor,
        project: input.project,
        action: "model.artifact.evaluate",
        target: `artifact:${input.artifactSha256}`,
        summary: { dataset: e.dataset, metrics: e.metrics },
      });
      return e;
    });
  }

  async evaluations(project: string, ref: string): Promise<Evaluation[]> {
    const v = await this.resolve(project, ref);
    return this.deps.store.listEvaluations(project, v.modelName, v.version);
  }

  // ---- policies ----

  /** Problems a spec's `policies:` would cause, as `policies.<name>…: message` lines (empty: fine). */
  validatePolicies(policies: Record<string, PolicySpec>): string[] {
    return policyProblems(policies);
  }

  /** What making `next` the project's policies would change (empty: nothing; `tandem policies diff`). */
  async policyChanges(project: string, next: Record<string, PolicySpec>): Promise<PolicyChange[]> {
    return diffPolicies(await this.policySource.policies(project), next);
  }

  /**
   * Throws ForbiddenError (403, naming the policies that differ) unless `who` may make `next` the
   * project's policies: nothing changes, or `who` is an admin of the project. For `tandem apply`,
   * PUT /policies, and a commit's own tandem.yaml (a git-triggered run checks its pusher with it).
   */
  async assertMayChangePolicies(
    who: PolicyChanger,
    project: string,
    next: Record<string, PolicySpec>,
  ): Promise<PolicyChange[]> {
    const changes = await this.policyChanges(project, next);
    assertMayChangePolicies(who, project, changes);
    return changes;
  }

  /** Makes `policies` the project's policies in force, if `who` may (see above); audited with the diff. */
  async changePolicies(
    who: PolicyChanger & { actor: string },
    project: string,
    policies: Record<string, PolicySpec>,
  ): Promise<PolicyChange[]> {
    const problems = policyProblems(policies);
    if (problems.length)
      throw new InvalidInputError(problems[0]!, {
        issues: problems.map((p) => ({ path: p.split(":")[0], message: p })),
      });
    const changes = await this.assertMayChangePolicies(who, project, policies);
    if (changes.length === 0) return changes;
    await audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      await this.deps.store.replacePolicies(project, policies, who.actor, nowMs(), tx);
      await record({
        actor: who.actor,
        project,
        action: "policy.change",
        target: `project:${project}`,
        summary: { policies: Object.keys(policies), ...auditDiff(changes) },
      });
    });
    return changes;
  }

  listPolicies(project: string): Promise<Record<string, PolicySpec>> {
    return this.policySource.policies(project);
  }
}
export type { RegistryDeps } from "./catalog.js";

function provenanceOf(
  p: EvaluationProvenance | null | undefined,
): Pick<Evaluation, "source" | "pipelineRunId" | "step" | "stepRunId"> {
  return p
    ? { source: "pipeline", pipelineRunId: p.pipelineRunId, step: p.step, stepRunId: p.stepRunId }
    : { source: "manual", pipelineRunId: null, step: null, stepRunId: null };
}
