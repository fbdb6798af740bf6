/**
 * Which slot answers a request. A canary gets its percentage; with an `X-Tandem-Routing-Key` the
 * choice is sticky: the key's hash picks a bucket in 0..9999, and buckets below percent × 100 go to
 * the canary, so the same key lands on the same side for as long as the percentage holds (and a key
 * on the canary stays there when the percentage grows).
 */
import { createHash } from "node:crypto";

export function routingBucket(key: string): number {
  const digest = createHash("sha1").update(key).digest();
  return digest.readUInt32BE(0) % 10_000;
}

export function chooseCanary(
  percent: number,
  routingKey: string | undefined,
  random: () => number = Math.random,
): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  const bucket = routingKey ? routingBucket(routingKey) : Math.floor(random() * 10_000);
  return bucket < Math.round(percent * 100);
}
