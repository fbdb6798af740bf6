/**
 * Keyset page tokens for experiments/search, as runs/search has (run-keyset.ts): a token carries the
 * sort fields of the last experiment of its page, and the next page is the experiments that sort
 * after it. An offset shifts when an experiment is created or deleted between pages (the next page
 * repeats or skips one); a key does not.
 */
import { createHash } from "node:crypto";
import { InvalidInputError } from "../errors.js";
import type { Experiment, ViewType } from "./model.js";

/** The fields experimentOrder compares (experiment-search.ts). */
export type ExperimentKey = Pick<Experiment, "experimentId" | "name" | "creationTime" | "lastUpdateTime">;

export interface ExperimentSearchShape {
  filter?: string;
  orderBy?: string[];
  viewType: ViewType;
}

const invalid = () => new InvalidInputError("Invalid page token: it was not made by this server");

function shapeHash(shape: ExperimentSearchShape): string {
  return createHash("sha256")
    .update(JSON.stringify([shape.filter ?? "", shape.orderBy ?? [], shape.viewType]))
    .digest("base64url")
    .slice(0, 16);
}

export function encodeExperimentPageToken(shape: ExperimentSearchShape, last: Experiment): string {
  const after: ExperimentKey = {
    experimentId: last.experimentId,
    name: last.name,
    creationTime: last.creationTime,
    lastUpdateTime: last.lastUpdateTime,
  };
  return Buffer.from(JSON.stringify({ after, search: shapeHash(shape) }), "utf8").toString("base64");
}

/** The key a token carries, or null for a token without one (an offset token: decodePageToken reads it). */
export function decodeExperimentPageToken(
  token: string | undefined,
  shape: ExperimentSearchShape,
): ExperimentKey | null {
  if (!token) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (typeof decoded !== "object" || decoded === null || !("after" in decoded)) return null;
  const { after, search } = decoded as { after: Partial<ExperimentKey> | null; search?: unknown };
  if (
    !after ||
    typeof after.experimentId !== "string" ||
    typeof after.name !== "string" ||
    typeof after.creationTime !== "number" ||
    typeof after.lastUpdateTime !== "number"
  )
    throw invalid();
  if (search !== shapeHash(shape))
    throw new InvalidInputError(
      "Invalid page token: it belongs to a different search (filter, order_by and view_type must stay the same between pages)",
    );
  return after as ExperimentKey;
}
