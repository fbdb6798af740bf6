/**
 * What code a run executes (the glossary's "Code"). A manual run runs its workspace as it is and
 * records the commit checked out there, whether the tree is dirty and which paths changed. A run
 * of a commit (a push, a polled ref, `tandem run --at`) runs a clean checkout of that commit with
 * the commit's own tandem.yaml, never the folder `tandem apply` was run from.
 */
import { basename } from "node:path";
import { InvalidInputError } from "../errors.js";
import { SYSTEM_USER, type Role } from "../governance/model.js";
import type { RunCode, SpecVersion } from "./model.js";
import type { SourceControl } from "./ports.js";
import type { SpecText } from "./spec-versions.js";
import type { TandemSpec } from "./spec/schema.js";

/** A run of one commit (StartRunInput.at). */
export interface CommitRequest {
  /** The full commit id. */
  commit: string;
  /** Where to fetch it from: a repository folder or URL (default: the repository holding the spec's folder). */
  source?: string | null;
}

/** A manual run's code: the workspace's HEAD and its changes; `commit: null` outside git. */
export async function workspaceCode(git: SourceControl | undefined, workspace: string | null): Promise<RunCode | null> {
  if (!git) return null; // this process cannot tell: unknown, not "outside git"
  const described = workspace ? await git.describe(workspace).catch(() => null) : null;
  return {
    commit: described?.commit ?? null,
    committedAt: described?.committedAt ?? null,
    dirty: described?.dirty ?? false,
    changed: described?.changed ?? [],
    checkout: null,
  };
}

/** A commit checked out for a run, with its spec (not yet stored). */
export interface PreparedCommit {
  workspace: string;
  code: RunCode;
  source: string;
  spec: TandemSpec;
  /** tandem.yaml's text at the commit. */
  text: string;
  /** The spec's path in the repository (`tandem.yaml`, `ml/tandem.yaml`). */
  file: string;
}

/**
 * Checks `at.commit` out for run `runId` and reads its tandem.yaml (`specFile`'s name, in `folder`'s
 * place in the repository). Throws InvalidInputError naming what failed:
 * git's message, a commit without the spec, or the spec's own problems (file:line).
 */
export async function checkoutCommit(options: {
  git: SourceControl | undefined;
  /** The spec's file name as last applied; the commit's is read from the same place (default tandem.yaml). */
  specFile: string;
  /** The folder whose repository the commit is fetched from (default: `base.workspace`). */
  folder: string | null;
  at: CommitRequest;
  runId: string;
  pipeline: string;
  validate: (source: string, file: string) => TandemSpec;
}): Promise<PreparedCommit> {
  const { git, at } = options;
  if (!git) throw new InvalidInputError("this server cannot check out commits (git is not available to it)");
  const located = options.folder ? await git.locate(options.folder) : null;
  const source = at.source ?? located?.root;
  if (!source)
    throw new InvalidInputError(
      `cannot run commit ${at.commit}: ${options.folder ? `the spec's folder ${options.folder} is not in a git repository` : "the spec has no folder"} and no repository is configured (\`repository:\` in tandem.yaml, or \`git: { repo }\` on the trigger)`,
    );
  const subdir = located?.subdir ?? "";
  const specFile = basename(options.specFile) || "tandem.yaml";
  let checkedOut: { workspace: string; spec: string | null; committedAt?: number | null };
  try {
    checkedOut = await git.checkout({ source, commit: at.commit, runId: options.runId, subdir, specFile });
  } catch (error) {
    throw new InvalidInputError((error as Error).message);
  }
  const file = subdir ? `${subdir}/${specFile}` : specFile;
  if (checkedOut.spec === null)
    throw new InvalidInputError(`commit ${at.commit} has no ${file}: there is no spec to run at that commit`);
  const spec = options.validate(checkedOut.spec, `${file}@${at.commit.slice(0, 12)}`);
  if (!spec.pipelines?.[options.pipeline]) {
    throw new InvalidInputError(
      `${file} at commit ${at.commit.slice(0, 12)} has no pipeline ${options.pipeline} (pipelines: ${Object.keys(spec.pipelines ?? {}).join(", ") || "none"})`,
    );
  }
  return {
    workspace: checkedOut.workspace,
    code: {
      commit: at.commit,
      committedAt: checkedOut.committedAt ?? null,
      dirty: false,
      changed: [],
      checkout: { source, subdir },
    },
    source,
    spec,
    text: checkedOut.spec,
    file,
  };
}

/** What preparing a run of a commit needs from the pipelines service. */
export interface CommitRunDeps {
  git: SourceControl | undefined;
  parsedSpec(v: SpecVersion): TandemSpec;
  validate(source: string, file: string): TandemSpec;
  /** The outbound guard for an https `repository:` (throws ForbiddenError). */
  checkRepository(spec: TandemSpec, file: string): Promise<void>;
  /** `tandem apply`'s policy rule for whoever the run acts for (throws ForbiddenError). */
  checkPolicies(who: { user: string | null; role: Role | null }, spec: TandemSpec): Promise<void>;
  storeSpec(input: SpecText): Promise<SpecVersion>;
}

/**
 * A run of a commit: checks it out and stores its tandem.yaml as a spec version, after the policy
 * check `tandem apply` makes for whoever the run acts for. Asked for by hand (`--at`), a failure
 * is the caller's error (a 403 for policies). Started by a push or a poll (`system`), there is
 * nobody to answer: the run is created on the base spec with `code.error`, and its first step
 * fails with it while nothing else runs.
 */
export async function prepareCommitRun(
  deps: CommitRunDeps,
  input: {
    actor: string;
    project: string;
    runId: string;
    pipeline: string;
    at: CommitRequest;
    /** The applied spec (or the one asked for); null when the project has none yet. */
    base: SpecVersion | null;
    workspace?: string | null;
    triggeredBy?: string | null;
    role?: Role | null;
  },
): Promise<{ v: SpecVersion; workspace: string | null; code: RunCode }> {
  const { actor, project, base } = input;
  const folder = input.workspace ?? base?.workspace ?? null;
  try {
    // The applied spec's `repository:` (checked again: its address may have moved since apply).
    const baseSpec = base ? deps.parsedSpec(base) : undefined;
    if (!input.at.source && base && baseSpec?.repository) await deps.checkRepository(baseSpec, base.file);
    const at = { ...input.at, source: input.at.source ?? baseSpec?.repository ?? null };
    const prepared = await checkoutCommit({
      git: deps.git,
      specFile: base?.file ?? "tandem.yaml",
      folder,
      at,
      runId: input.runId,
      pipeline: input.pipeline,
      validate: deps.validate,
    });
    if (prepared.spec.project && prepared.spec.project !== project)
      throw new InvalidInputError(
        `${prepared.file} at commit ${at.commit.slice(0, 12)}: project: ${prepared.spec.project} is not ${project}`,
      );
    const person = input.triggeredBy !== undefined ? input.triggeredBy : actor === SYSTEM_USER ? null : actor;
    await deps.checkPolicies({ user: person, role: input.role ?? null }, prepared.spec);
    const v = await deps.storeSpec({
      source: prepared.text,
      file: prepared.file,
      workspace: folder,
      spec: prepared.spec,
      commit: at.commit,
    });
    return { v, workspace: prepared.workspace, code: prepared.code };
  } catch (error) {
    await deps.git?.release(input.runId).catch(() => undefined);
    if (actor !== SYSTEM_USER || !base) throw error;
    const code: RunCode = { commit: input.at.commit, dirty: false, changed: [], checkout: null };
    return { v: base, workspace: null, code: { ...code, error: (error as Error).message } };
  }
}
