/**
 * Offset page tokens: opaque to clients, an offset inside, as MLflow's own are (a later page may
 * repeat or skip an item added or removed between pages). runs/search uses keyset tokens instead
 * (run-keyset.ts) and still reads an offset token an older server gave out.
 */
import { InvalidInputError } from "../errors.js";

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), "utf8").toString("base64");
}

export function decodePageToken(token: string | undefined | null): number {
  if (!token) return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
  } catch {
    throw new InvalidInputError("Invalid page token: it was not made by this server");
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidInputError("Invalid page token: it was not made by this server");
  }
  return offset;
}
