/**
 * Glossary (DESIGN.md):
 * - Dataset: a named series of versions in a project.
 * - Dataset version: a content-addressed snapshot of files — a manifest (sorted {path, sha256, size})
 *   stored as a blob, numbered 1, 2, … per dataset. It is named `name@N`, `name@latest`,
 *   `name@sha256:<manifest hash>` (a unique prefix of ≥ 8 hex digits will do) or `name@<tag>`.
 *   Adding content identical to the latest version makes no new version.
 * - Kind: `file` when the version was added from one file (a pipeline input then materialises as a
 *   file), `dir` for a directory.
 * - Dataset profile: per tabular file (CSV, TSV, JSON Lines, Parquet) its TableProfile, computed
 *   when the version is added and stored as a JSON blob.
 * - Event: a row in a durable, ordered feed (`seq`) written in the same transaction as the version;
 *   the Pipelines `data` trigger polls it, so it works across processes and restarts.
 */
import type { ManifestEntry } from "../artifacts/ports.js";
import type { TableProfile } from "./profile/model.js";
import type { TabularFormat } from "./readers/types.js";

export type DatasetKind = "file" | "dir";

export interface Dataset {
  project: string;
  name: string;
  createdAt: number;
  createdBy: string;
  latestVersion: number | null;
}

export interface DatasetVersion {
  project: string;
  name: string;
  version: number;
  manifestSha: string;
  kind: DatasetKind;
  fileCount: number;
  totalBytes: number;
  /** Blob of the DatasetProfile JSON (null when nothing in it is tabular, or profiling was skipped). */
  profileSha: string | null;
  message: string | null;
  createdAt: number;
  createdBy: string;
  tags: string[];
}

export interface DatasetEvent {
  seq: number;
  project: string;
  name: string;
  version: number;
  kind: "version_created";
  at: number;
}

export interface FileProfile {
  format: TabularFormat;
  profile: TableProfile;
}

export interface DatasetProfile {
  format: "tandem.dataset-profile/1";
  /** By path inside the version. */
  files: Record<string, FileProfile>;
}

/** A version with what pipelines need to use it. */
export interface ResolvedVersion {
  name: string;
  version: number;
  /** `name@sha256:<manifest>` */
  id: string;
  manifestSha: string;
  kind: DatasetKind;
  entries: ManifestEntry[];
}

export interface ValidationRecord {
  id: string;
  project: string;
  name: string;
  version: number;
  ok: boolean;
  report: unknown;
  runId: string | null;
  createdAt: number;
  createdBy: string;
}

export const versionId = (name: string, manifestSha: string): string => `${name}@sha256:${manifestSha}`;
