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
