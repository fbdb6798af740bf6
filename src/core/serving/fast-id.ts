/**
 * Prediction and request ids, 32 hex characters like `newId()`, without a call into the CSPRNG per
 * id: the serving hot path makes one or two per request, and `randomBytes` showed up at ~6% of a
 * serving process's CPU. A random 64-bit prefix per process plus a 64-bit counter that starts at a
 * random value stays unique across processes (a prefix collision is a 2^-64 event) and needs no
 * secrecy: these ids are labels, not credentials.
 */
import { randomBytes } from "node:crypto";

const prefix = randomBytes(8).toString("hex");
let high = randomBytes(4).readUInt32BE(0);
let low = randomBytes(4).readUInt32BE(0);

/** The first 24 characters, which change once in 2^32 ids: one string concatenation per id, not three. */
let head = prefix + high.toString(16).padStart(8, "0");

export function fastId(): string {
  low = (low + 1) >>> 0;
  if (low === 0) {
    high = (high + 1) >>> 0;
    head = prefix + high.toString(16).padStart(8, "0");
  }
  return head + low.toString(16).padStart(8, "0");
}

/**
 * `count` ids that follow each other: ids[i] is `head` and `first + i` in 8 hex digits, as the
 * prediction log keys its batches (one run per request, sent to the log as head and first instead of
 * its ids). A run never crosses the counter's wrap: one that would starts at the next head.
 */
export function fastIdRun(count: number): { ids: string[]; head: string; first: number } {
  let first = (low + 1) >>> 0;
  if (first === 0 || first + count - 1 > 0xffffffff) {
    high = (high + 1) >>> 0;
    head = prefix + high.toString(16).padStart(8, "0");
    first = 0;
  }
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) ids[i] = head + (first + i).toString(16).padStart(8, "0");
  if (count > 0) low = first + count - 1;
  return { ids, head, first };
}
