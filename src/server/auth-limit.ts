/**
 * Failed authentication is rate-limited per client address: after `limit` failures within a
 * minute, every request from that address that presents credentials answers 429 until the oldest
 * of those failures is a minute old. Valid credentials are refused too while it lasts, or the
 * limit would still answer "that one was right" at full speed.
 *
 * Only requests that present a credential (a token, a session cookie, a webhook signature) and
 * fail count; a request without any is not an attempt to guess. The count lives in this process:
 * several servers each keep their own, and behind a reverse proxy every client has the proxy's
 * address unless the proxy is trusted.
 */
import { RateLimitedError } from "../core/errors.js";

const WINDOW_MS = 60_000;
/** Addresses remembered at most; the oldest are forgotten first (a flood from many addresses). */
const MAX_ADDRESSES = 10_000;

export class FailedAuthLimiter {
  /** Address → times of its recent failures, oldest first, at most `limit` of them. */
  private readonly failures = new Map<string, number[]>();

  /** @param limit failures allowed per address per minute (0: no limit). */
  constructor(private readonly limit: number) {}

  /** Throws RateLimitedError while `address` is over the limit. */
  check(address: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const times = this.failures.get(address);
    if (!times || times.length < this.limit) return;
    const until = times[0]! + WINDOW_MS;
    if (until <= now) return;
    const seconds = Math.ceil((until - now) / 1000);
    throw new RateLimitedError(
      `too many failed authentication attempts from ${address} (${this.limit} a minute): try again in ${seconds} s`,
      seconds,
    );
  }

  fail(address: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const times = this.failures.get(address) ?? [];
    times.push(now);
    while (times.length > this.limit || (times.length && times[0]! + WINDOW_MS <= now)) times.shift();
    this.failures.delete(address); // re-inserted last: the map's order is least recently failed first
    this.failures.set(address, times);
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }
}
