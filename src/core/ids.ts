import { randomBytes } from "node:crypto";

/** A 32-hex-character id, the shape MLflow uses for run ids (uuid4().hex). */
export function newId(): string {
  return randomBytes(16).toString("hex");
}

/** Milliseconds since the epoch; every stored timestamp uses this unit, as MLflow does. */
export function nowMs(): number {
  return Date.now();
}
