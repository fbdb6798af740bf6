/**
 * Stored spec versions: `tandem apply` adds one when the text or folder changed, and a run of a
 * commit adds one naming that commit (see run-code.ts). Numbers count both kinds.
 */
import { createHash } from "node:crypto";
import type { AuditLog } from "../governance/audit.js";
import { audited } from "../governance/audited.js";
import { nowMs } from "../ids.js";
import type { MetadataStore } from "../ports.js";
import type { SpecVersion } from "./model.js";
import type { PipelineStore } from "./ports.js";
import type { TandemSpec } from "./spec/schema.js";

export interface SpecText {
  source: string;
  file: string;
  workspace: string | null;
  spec: TandemSpec;
  /** The commit the text was read from (a run of a commit); absent when applied. */
  commit?: string;
}

/** Stores a spec's text as the project's next version, unless the same text (folder, commit) is the latest. */
export function storeSpecVersion(
  deps: { metadata: MetadataStore; audit: AuditLog; store: PipelineStore },
  actor: string,
  project: string,
  input: SpecText,
): Promise<SpecVersion & { created: boolean }> {
  const { store } = deps;
  const digest = createHash("sha256").update(input.source).digest("hex");
  const commit = input.commit ?? null;
  return audited(deps.metadata, deps.audit, async (tx, record) => {
    const latest = await store.latestSpec(project, tx);
    // Numbers count every version, applied or read from a commit.
    const newest = await store.latestSpec(project, tx, { withCommits: true });
    // The same text again (from the same folder and commit) is the same version.
    const same = commit ? newest : latest;
    if (same && same.digest === digest && same.workspace === input.workspace && same.commit === commit)
      return { ...same, created: false };
    const version: SpecVersion = {
      project,
      version: (newest?.version ?? 0) + 1,
      digest,
      source: input.source,
      file: input.file,
      workspace: input.workspace,
      createdAt: nowMs(),
      createdBy: actor,
      commit,
    };
    await store.insertSpec(version, tx);
    await record({
      actor,
      project,
      action: "spec.apply",
      target: `spec:${version.version}`,
      summary: {
        version: version.version,
        digest,
        pipelines: Object.keys(input.spec.pipelines ?? {}),
        ...(commit ? { commit } : {}),
      },
    });
    return { ...version, created: true };
  });
}
