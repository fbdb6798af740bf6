/**
 * A dataset version on the wire, apart from data-wire.ts's zod schemas: the embedded CLI answers a
 * re-add of unchanged data from the data service with it, and loading zod for one mapper was about
 * 40 ms of that start-up (issue 18). data-wire.ts checks its schema against this type.
 */
import type { DatasetVersion } from "../../core/data/model.js";
import { versionId } from "../../core/data/model.js";

export interface DatasetVersionWire {
  name: string;
  version: number;
  id: string;
  manifest_sha256: string;
  kind: "file" | "dir";
  file_count: number;
  total_bytes: number;
  profile_sha256: string | null;
  message: string | null;
  tags: string[];
  created_at: number;
  created_by: string;
}

export function versionToWire(v: DatasetVersion): DatasetVersionWire {
  return {
    name: v.name,
    version: v.version,
    id: versionId(v.name, v.manifestSha),
    manifest_sha256: v.manifestSha,
    kind: v.kind,
    file_count: v.fileCount,
    total_bytes: v.totalBytes,
    profile_sha256: v.profileSha,
    message: v.message,
    tags: v.tags,
    created_at: v.createdAt,
    created_by: v.createdBy,
  };
}
