import type { Tx } from "../ports.js";
import type { Dataset, DatasetEvent, DatasetVersion, ValidationRecord } from "./model.js";
import type { TabularFormat } from "./readers/types.js";

export interface DataStore {
  ensureDataset(d: { project: string; name: string; createdAt: number; createdBy: string }, tx?: Tx): Promise<void>;
  listDatasets(project: string, tx?: Tx): Promise<Dataset[]>;
  getDataset(project: string, name: string, tx?: Tx): Promise<Dataset | null>;
  /** Highest version number, or null. */
  latestVersion(project: string, name: string, tx?: Tx): Promise<DatasetVersion | null>;
  getVersion(project: string, name: string, version: number, tx?: Tx): Promise<DatasetVersion | null>;
  /** Versions whose manifest hash starts with `prefix`. */
  findVersionsByManifest(project: string, name: string, prefix: string, tx?: Tx): Promise<DatasetVersion[]>;
  listVersions(project: string, name: string, tx?: Tx): Promise<DatasetVersion[]>;
  insertVersion(v: Omit<DatasetVersion, "tags">, tx?: Tx): Promise<void>;
  setTag(
    t: { project: string; name: string; label: string; version: number; at: number; by: string },
    tx?: Tx,
  ): Promise<number | null>;
  getTag(project: string, name: string, label: string, tx?: Tx): Promise<number | null>;
  insertEvent(e: Omit<DatasetEvent, "seq">, tx?: Tx): Promise<void>;
  /** Events with seq > `afterSeq`, oldest first. */
  eventsAfter(afterSeq: number, limit: number, project?: string, tx?: Tx): Promise<DatasetEvent[]>;
  maxEventSeq(tx?: Tx): Promise<number>;
  /** How far `consumer` has read the event feed (null: never). */
  getCursor(consumer: string, tx?: Tx): Promise<number | null>;
  setCursor(consumer: string, seq: number, at: number, tx?: Tx): Promise<void>;
  getFileProfile(blobSha: string, tx?: Tx): Promise<{ profileSha: string; format: TabularFormat } | null>;
  putFileProfile(p: { blobSha: string; profileSha: string; format: TabularFormat; at: number }, tx?: Tx): Promise<void>;
  insertValidation(v: ValidationRecord, tx?: Tx): Promise<void>;
  listValidations(project: string, name: string, version: number | null, tx?: Tx): Promise<ValidationRecord[]>;
}

/** A stored blob as a local file the readers can open (Parquet needs random access). */
export interface BlobFiles {
  /** The blob's bytes at a local path; `release` removes any temporary copy. */
  open(sha256: string): Promise<{ path: string; release(): Promise<void> }>;
}

/**
 * The CLI's own small documents in its home, such as `tandem data add`'s stat cache: read whole,
 * replaced whole so a reader never sees half of one. Commands reach local state through this port
 * rather than through a store's file layout.
 */
export interface ClientStateStore {
  /** The document's text, or null when there is none yet. */
  read(name: string): Promise<string | null>;
  write(name: string, text: string): Promise<void>;
}
