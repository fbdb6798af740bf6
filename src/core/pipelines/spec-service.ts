/**
 * A project's pipeline specs: the one set of checks `tandem validate` and `tandem apply` share, the
 * versions apply stores, and their parsed form. The areas that own a part of a spec (monitors,
 * endpoints, policies, prompts) hook in here: their checks run before anything is stored, their
 * listeners after.
 */
import { ForbiddenError, NotFoundError } from "../errors.js";
import type { AuditLog } from "../governance/audit.js";
import type { Role } from "../governance/model.js";
import type { MetadataStore } from "../ports.js";
import { builtinNames, findBuiltin } from "./builtins/index.js";
import type { EngineDeps } from "./engine/deps.js";
import type { SpecVersion } from "./model.js";
import { areaFindings, problemOf, type SpecChecker } from "./spec-area-checks.js";
import { checkProject } from "./spec-check.js";
import { storeSpecVersion, type SpecText } from "./spec-versions.js";
import { checkSpec, loadSpec, SpecError } from "./spec/load.js";
import { formatIssue, type SpecIssue } from "./spec/positions.js";
import type { PipelineSpec, TandemSpec } from "./spec/schema.js";

/** Who applies a spec: a user (null: an unknown git pusher) and their role in the project. */
export interface SpecApplier {
  user: string | null;
  role: Role | null;
}

/**
 * Governance of a spec's `policies:` — the registry implements it (wiring/registry.ts). Policies are
 * not pipeline configuration: only an admin changes them.
 */
export interface SpecPolicyGate {
  /** Throws ForbiddenError (403, naming the policies that differ) unless `who` may apply these policies. */
  check(who: SpecApplier, project: string, spec: TandemSpec): Promise<void>;
  /** Makes the spec's policies the ones in force (a no-op when equal), audited with the diff. */
  adopt(who: SpecApplier & { user: string }, project: string, spec: TandemSpec): Promise<void>;
}

/** The built-ins a spec may use, and what their `with:` fields refer to (validation checks both). */
function specOptions() {
  return {
    builtins: builtinNames(),
    references: (uses: string, w: Record<string, unknown>) =>
      findBuiltin(uses.slice("tandem/".length))?.references?.(w) ?? [],
  };
}

export class PipelineSpecs {
  /** Parsed specs by `project@version`: a stored version never changes, so parse it once per process. */
  private readonly parsedVersions = new Map<string, TandemSpec>();

  /**
   * Areas that act on an applied spec (monitors, endpoints, policies) subscribe here; they run after
   * the spec version is stored, on every apply, and must be idempotent (unchanged parts are no-ops).
   */
  readonly listeners: Array<(actor: string, project: string, spec: TandemSpec) => Promise<void>> = [];

  /**
   * Areas' checks of their part of a spec (monitor definitions, endpoint references): run by both
   * `validate` and `apply`, before anything is stored, so the two agree (spec-area-checks.ts).
   */
  readonly checkers: SpecChecker[] = [];

  /** Set by the registry's wiring; without it (no registry in this process) policies are not kept. */
  policyGate: SpecPolicyGate | null = null;

  /**
   * The outbound guard (SSRF) for a spec's `repository:` URL, set by the wiring: checked when the
   * spec is applied and again before each fetch. Throws ForbiddenError for a refused address.
   */
  checkOutbound: ((url: string, what: string) => Promise<void>) | null = null;

  constructor(private readonly o: { metadata: MetadataStore; audit: AuditLog; engine: EngineDeps }) {}

  private get store() {
    return this.o.engine.store;
  }

  async checkRepository(spec: TandemSpec, file: string): Promise<void> {
    if (spec.repository?.startsWith("https://")) await this.checkOutbound?.(spec.repository, `${file}: repository`);
  }

  /** The spec's own checks, without the project's (a spec in a request body, a commit's tandem.yaml). */
  validate(source: string, file = "tandem.yaml"): { spec?: TandemSpec; issues: SpecIssue[] } {
    return checkSpec(source, file, specOptions());
  }

  /** Parses a spec that must be valid: throws SpecError naming every issue. */
  load(source: string, file: string): TandemSpec {
    return loadSpec(source, file, specOptions()).spec;
  }

  /**
   * The one set of checks `tandem validate` and `tandem apply` share: the spec's own, then (when it
   * is valid) the project mismatch, the repository's address, each area's part (monitors,
   * endpoints, policies: see spec-area-checks.ts) and those against the project folder and the
   * stores, which add errors (a missing `with:` file) and warnings (see spec-check.ts).
   */
  async check(
    project: string,
    input: { source: string; file?: string; workspace?: string | null; role?: Role | null; user?: string },
  ): Promise<{ spec?: TandemSpec; issues: SpecIssue[]; warnings: SpecIssue[]; forbidden?: boolean }> {
    const file = input.file ?? "tandem.yaml";
    const { spec, issues, at } = checkSpec(input.source, file, specOptions());
    if (!spec) return { issues, warnings: [] };
    let forbidden = false;
    if (spec.project && spec.project !== project)
      issues.push(at.issue(["project"], `${spec.project} does not match the project ${project} this request acts in`));
    if (spec.repository?.startsWith("https://")) {
      try {
        await this.checkRepository(spec, file);
      } catch (error) {
        const problem = problemOf(["repository"], error);
        if (!problem) throw error;
        issues.push(at.issue(problem.path, problem.message));
        forbidden ||= problem.forbidden ?? false;
      }
    }
    const areas = await areaFindings(this.checkers, spec, { project, role: input.role ?? null }, at);
    try {
      // Apply refuses (403) when someone other than an admin changes policies; validate says so ahead.
      if (input.role !== undefined)
        await this.policyGate?.check({ user: input.user ?? null, role: input.role }, project, spec);
    } catch (error) {
      if (!(error instanceof ForbiddenError)) throw error;
      areas.warnings.push(at.issue(["policies"], `tandem apply will refuse this for your role: ${error.message}`));
    }
    const found = await checkProject(spec, at, {
      project,
      workspace: input.workspace ?? null,
      deps: {
        workspace: this.o.engine.workspace,
        references: this.o.engine.references,
        executors: this.o.engine.executors,
      },
    });
    const all = [...issues, ...areas.issues, ...found.issues];
    return {
      spec: all.length ? undefined : spec,
      issues: all,
      warnings: [...areas.warnings, ...found.warnings],
      forbidden: forbidden || areas.forbidden,
    };
  }

  /**
   * Stores a versioned copy of a spec (a new version only when the text changed), after the same
   * checks as `check` (validate): any issue refuses it before anything is stored. A spec whose
   * `policies:` differ from the project's policies in force needs an admin (`role`): 403 otherwise.
   */
  async apply(
    actor: string,
    project: string,
    input: { source: string; file?: string; workspace?: string | null; role: Role | null },
  ): Promise<SpecVersion & { created: boolean }> {
    const file = input.file ?? "tandem.yaml";
    // No role here: apply itself refuses (403) below when the policies need an admin.
    const { spec, issues, forbidden } = await this.check(project, {
      source: input.source,
      file,
      workspace: input.workspace,
    });
    // An address the outbound guard refuses stays a 403 (exit 3), as a refusal for safety.
    if (!spec && forbidden) throw new ForbiddenError(issues.map(formatIssue).join("\n"), { issues });
    if (!spec) throw new SpecError(issues);
    const who = { user: actor, role: input.role };
    await this.policyGate?.check(who, project, spec);
    const applied = await this.storeVersion(actor, project, {
      source: input.source,
      file,
      workspace: input.workspace ?? null,
      spec,
    });
    // Policies first: endpoints the spec deploys are checked against the policies it brings.
    await this.policyGate?.adopt(who, project, spec);
    for (const listener of this.listeners) await listener(actor, project, spec);
    return applied;
  }

  /** Stores a checked spec as a version (see spec-versions.ts); no checks, no listeners. */
  storeVersion(actor: string, project: string, input: SpecText): Promise<SpecVersion & { created: boolean }> {
    return storeSpecVersion(
      { metadata: this.o.metadata, audit: this.o.audit, store: this.store },
      actor,
      project,
      input,
    );
  }

  /** A stored version (default: the latest); NotFoundError saying how to make one. */
  async version(project: string, version?: number): Promise<SpecVersion> {
    const v = version === undefined ? await this.store.latestSpec(project) : await this.store.getSpec(project, version);
    if (!v)
      throw new NotFoundError(
        version === undefined
          ? `project ${project} has no spec yet (run tandem apply)`
          : `project ${project} has no spec version ${version}`,
      );
    return v;
  }

  /** The parsed spec of a stored version. */
  parsed(v: SpecVersion): TandemSpec {
    const key = `${v.project}@${v.version}`;
    let spec = this.parsedVersions.get(key);
    if (!spec) {
      spec = loadSpec(v.source, v.file).spec;
      this.parsedVersions.set(key, spec);
    }
    return spec;
  }

  /** One pipeline of a stored version; NotFoundError naming the pipelines it has. */
  pipelineOf(v: SpecVersion, name: string): PipelineSpec {
    const p = this.parsed(v).pipelines?.[name];
    if (!p) {
      const known = Object.keys(this.parsed(v).pipelines ?? {});
      throw new NotFoundError(
        `spec version ${v.version} of project ${v.project} has no pipeline ${name} (pipelines: ${known.join(", ") || "none"})`,
      );
    }
    return p;
  }
}
