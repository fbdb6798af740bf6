/**
 * The one SSRF guard for every outbound call to a URL a user can set: alert receivers, webhook
 * targets, git remotes, LLM upstreams. Only public unicast addresses are reachable, unless the admin
 * allows more with TANDEM_OUTBOUND_ALLOW (addresses, CIDR ranges, host names, `*.suffix`, or `*`).
 *
 * Names are resolved and every address they resolve to is checked, when a URL is set (`check`) and
 * again when a connection is made (`fetch` passes `lookup` to the socket), so a name that resolves
 * to a public address when set and to 127.0.0.1 later (DNS rebinding) is still refused. Redirects
 * are never followed: a 3xx comes back to the caller as it is.
 *
 * Connections are kept alive in the guard's own agents, never the global one: every pooled socket
 * was opened through the guarded lookup, and a socket another module opened without it is never
 * reused for a guarded call.
 */
import { lookup as lookupCallback, type LookupAddress } from "node:dns";
import { lookup as lookupPromise } from "node:dns/promises";
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { Readable } from "node:stream";
import ipaddr from "ipaddr.js";
import { ForbiddenError, InvalidInputError } from "../../core/errors.js";
import type { OutboundGuard } from "../../core/ports.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Resolves a host name to every address it has (default: the system resolver, as sockets use). */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (hostname) => lookupPromise(hostname, { all: true, verbatim: true });

/** What TANDEM_OUTBOUND_ALLOW may hold, parsed. */
interface AllowList {
  everything: boolean;
  ranges: Array<[Address, number]>;
  hosts: Set<string>;
  suffixes: string[];
}

export const OUTBOUND_ALLOW_VARIABLE = "TANDEM_OUTBOUND_ALLOW";

/** Parses the allow list; a malformed entry throws naming it (config.ts reports the variable). */
export function parseOutboundAllow(entries: string[]): AllowList {
  const list: AllowList = { everything: false, ranges: [], hosts: new Set(), suffixes: [] };
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") list.everything = true;
    else if (ipaddr.isValidCIDR(entry)) list.ranges.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      const address = ipaddr.parse(entry);
      list.ranges.push([address, address.kind() === "ipv4" ? 32 : 128]);
    } else if (/^\*\.[a-z0-9.-]+$/.test(entry)) list.suffixes.push(entry.slice(1));
    else if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(entry)) list.hosts.add(entry);
    else throw new Error(`not an address, CIDR range, host name or *.suffix: ${JSON.stringify(raw)}`);
  }
  return list;
}

/** Why an address is not public, in words, or null when it is an ordinary public unicast address. */
function nonPublicKind(address: Address): string | null {
  const range = address.range();
  switch (range) {
    case "unicast":
      return null;
    case "loopback":
      return "a loopback address";
    case "linkLocal":
      return "a link-local address (cloud metadata services live there)";
    case "private":
    case "uniqueLocal":
      return "a private address";
    case "carrierGradeNat":
      return "a carrier-grade NAT address";
    case "unspecified":
      return "the unspecified address";
    default:
      // Multicast, broadcast, reserved, benchmarking, and IPv6 forms that embed an IPv4 address
      // (6to4, Teredo, NAT64): none is a public destination one can vouch for.
      return `a non-public address (${range})`;
  }
}

/** Parses an address, unwrapping IPv4-mapped IPv6 (::ffff:127.0.0.1 is 127.0.0.1). */
function parseAddress(text: string): Address {
  const address = ipaddr.parse(text.replace(/^\[|\]$/g, ""));
  return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

export interface GuardedFetchInit {
  /** (default "GET") */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /**
   * Fails the call with an OutboundTimeoutError when it has not completed within this many ms
   * (default none). One timer, cleared when the call ends: `AbortSignal.timeout` keeps a WeakRef, a
   * finalization record and a timer alive for the whole delay after the call is over (60 s for an
   * LLM upstream), which cost the LLM endpoint ~45 µs of CPU per call in GC and timer work.
   */
  timeoutMs?: number;
}

/** A guarded call did not complete within its `timeoutMs` (named as AbortSignal.timeout's reason is). */
export class OutboundTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = "TimeoutError";
  }
}

/** A checked URL, as request options (parsing it and checking its address cost ~10 µs per call). */
interface CheckedTarget {
  at: number;
  https: boolean;
  hostname: string;
  port: string;
  path: string;
  auth: string | undefined;
}

/** How long a checked URL is reused: as long as a name's pre-check (the socket's lookup still guards). */
const TARGET_REUSE_MS = 5000;

/** A whole answer, read into memory: what a JSON API call needs, without web streams (~3× cheaper). */
export interface BufferedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class AddressOutboundGuard implements OutboundGuard {
  private readonly allow: AllowList;
  private readonly agents = {
    "http:": new HttpAgent({ keepAlive: true, scheduling: "lifo" }),
    "https:": new HttpsAgent({ keepAlive: true, scheduling: "lifo" }),
  };
  /** Host names whose addresses last passed the check, and when (ms). */
  private readonly namesPassed = new Map<string, number>();
  /** URLs that last passed the check, as request options, and when. */
  private readonly targets = new Map<string, CheckedTarget>();

  /**
   * @param allowEntries TANDEM_OUTBOUND_ALLOW's entries (default none: public addresses only).
   * @param resolve how host names are resolved (default: the system resolver).
   */
  constructor(
    allowEntries: string[] = [],
    private readonly resolve: Resolver = systemResolver,
  ) {
    this.allow = parseOutboundAllow(allowEntries);
  }

  private hostAllowed(hostname: string): boolean {
    const host = hostname.toLowerCase();
    return this.allow.everything || this.allow.hosts.has(host) || this.allow.suffixes.some((s) => host.endsWith(s));
  }

  /** Null when `address` may be called, else why not. */
  private refusal(address: Address): string | null {
    const why = nonPublicKind(address);
    if (why === null) return null;
    if (this.allow.ranges.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits))) return null;
    return why;
  }

  private refuse(what: string, url: string, host: string, address: string, why: string): never {
    const shown = host === address ? address : `${host} (${address})`;
    throw new ForbiddenError(
      `${what} ${url}: ${shown} is ${why}; Tandem does not call loopback, link-local or private addresses ` +
        `unless ${OUTBOUND_ALLOW_VARIABLE} allows them (e.g. ${OUTBOUND_ALLOW_VARIABLE}=${address.includes(":") ? address : `${address}/32`})`,
    );
  }

  /**
   * Parses the URL and checks its host and every address it resolves to; returns the parsed URL.
   * With `reuseMs`, a name that passed within that many ms is not resolved again: the call connects
   * through `lookup`, which checks what the name resolves to when a socket connects, so the early
   * check only serves a clear message, and resolving per call would cost a DNS round trip each time.
   */
  async checked(url: string, what: string, reuseMs = 0): Promise<URL> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidInputError(`${what} is not a URL: ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      throw new InvalidInputError(`${what} must be an http(s) URL, not ${parsed.protocol}`);
    const shown = `${parsed.protocol}//${parsed.host}${parsed.pathname}`; // never the credentials or query
    const host = parsed.hostname.replace(/^\[|\]$/g, "");
    if (this.hostAllowed(host)) return parsed;
    if (ipaddr.isValid(host)) {
      const why = this.refusal(parseAddress(host));
      if (why) this.refuse(what, shown, host, host, why);
      return parsed;
    }
    const passedAt = this.namesPassed.get(host);
    if (reuseMs > 0 && passedAt !== undefined && Date.now() - passedAt < reuseMs) return parsed;
    let addresses: Array<{ address: string }>;
    try {
      addresses = await this.resolve(host);
    } catch (error) {
      throw new InvalidInputError(`${what} ${shown}: cannot resolve ${host} (${(error as Error).message})`);
    }
    if (addresses.length === 0) throw new InvalidInputError(`${what} ${shown}: ${host} has no address`);
    for (const { address } of addresses) {
      const why = this.refusal(parseAddress(address));
      if (why) this.refuse(what, shown, host, address, why);
    }
    if (this.namesPassed.size >= 1000) this.namesPassed.clear();
    this.namesPassed.set(host, Date.now());
    return parsed;
  }

  async check(url: string, what: string): Promise<void> {
    await this.checked(url, what);
  }

  /**
   * A socket `lookup` that resolves like the system does and refuses any address the guard would
   * refuse, at connection time: the defence against DNS rebinding.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const all = typeof options === "object" && options !== null && (options as { all?: boolean }).all === true;
    const reply = callback as (error: Error | null, address: string | LookupAddress[], family?: number) => void;
    if (this.hostAllowed(hostname)) return lookupCallback(hostname, options as object, callback as never);
    this.resolve(hostname).then(
      (addresses) => {
        for (const { address } of addresses) {
          const why = this.refusal(parseAddress(address));
          if (why) return reply(new ForbiddenError(`outbound call to ${hostname} refused: ${address} is ${why}`), "");
        }
        if (addresses.length === 0) return reply(new Error(`${hostname} has no address`), "");
        if (all) return reply(null, addresses);
        const first = addresses[0]!;
        reply(null, first.address, first.family);
      },
      (error: Error) => reply(error, ""),
    );
  };

  /** The URL checked (reused for TARGET_REUSE_MS, as a name's pre-check is), as request options. */
  private async target(url: string, what: string): Promise<CheckedTarget> {
    const now = Date.now();
    const hit = this.targets.get(url);
    if (hit && now - hit.at < TARGET_REUSE_MS) return hit;
    const parsed = await this.checked(url, what, TARGET_REUSE_MS);
    const https = parsed.protocol === "https:";
    const target: CheckedTarget = {
      at: now,
      https,
      hostname: parsed.hostname.replace(/^\[|\]$/g, ""),
      port: parsed.port || (https ? "443" : "80"),
      path: parsed.pathname + parsed.search,
      // Userinfo goes as Basic auth, as Node does for a URL given to http.request.
      auth:
        parsed.username || parsed.password
          ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
          : undefined,
    };
    if (this.targets.size >= 1000) this.targets.clear();
    this.targets.set(url, target);
    return target;
  }

  /**
   * Sends the request through the guard (checked URL, guarded lookup, own agents); answers its head.
   * `timeoutMs` covers the whole call: the caller clears the returned timer's hold with `done`.
   */
  private async send(
    url: string,
    what: string,
    init: GuardedFetchInit,
  ): Promise<{ res: IncomingMessage; done: () => void }> {
    // The socket's lookup checks names when it connects (a kept-alive socket was checked when it
    // connected): the early check of a URL is reused for a few seconds.
    const target = await this.target(url, what);
    return new Promise((resolve, reject) => {
      let response: IncomingMessage | null = null;
      const req = (target.https ? httpsRequest : httpRequest)(
        {
          protocol: target.https ? "https:" : "http:",
          hostname: target.hostname,
          port: target.port,
          path: target.path,
          auth: target.auth,
          method: (init.method ?? "GET").toUpperCase(),
          headers: init.headers,
          signal: init.signal,
          lookup: this.lookup,
          agent: this.agents[target.https ? "https:" : "http:"],
        },
        (res) => {
          response = res;
          resolve({ res, done });
        },
      );
      // Destroying the request alone would fail a started answer with a bare "aborted".
      const expire = (ms: number) => {
        const error = new OutboundTimeoutError(ms);
        response?.destroy(error);
        req.destroy(error);
      };
      const timer = init.timeoutMs === undefined ? null : setTimeout(expire, init.timeoutMs, init.timeoutMs);
      const done = () => {
        if (timer) clearTimeout(timer);
      };
      req.on("error", (error) => {
        done();
        reject(error);
      });
      req.end(init.body);
    });
  }

  /**
   * fetch() for user-set URLs: checks the URL, connects through the guarded lookup, never follows a
   * redirect. Answers a standard Response whose body streams.
   */
  async fetch(url: string, what: string, init: GuardedFetchInit = {}): Promise<Response> {
    const { res, done } = await this.send(url, what, init);
    // A streamed body is the caller's to read: the timeout holds until it ends, however it ends.
    res.once("close", done);
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) for (const item of v) headers.append(k, item);
      else if (v !== undefined) headers.set(k, v);
    }
    const status = res.statusCode ?? 502;
    const method = (init.method ?? "GET").toUpperCase();
    const noBody = method === "HEAD" || status === 204 || status === 205 || status === 304;
    if (noBody) res.resume();
    return new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
      status,
      statusText: res.statusMessage,
      headers,
    });
  }

  /**
   * As `fetch`, with the whole answer read into memory (at most `maxBytes`, default 16 MiB: beyond it
   * the call fails rather than buffering without end). The LLM endpoint's plain calls use it.
   */
  async fetchBuffered(
    url: string,
    what: string,
    init: GuardedFetchInit & { maxBytes?: number } = {},
  ): Promise<BufferedAnswer> {
    const { res, done } = await this.send(url, what, init);
    const limit = init.maxBytes ?? 16 * 1024 * 1024;
    return new Promise<BufferedAnswer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          res.destroy(new Error(`the answer is larger than ${limit} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      // The request's timeout destroys the response with its OutboundTimeoutError.
      res.on("error", (error) => {
        done();
        reject(error);
      });
      // After "end" this does nothing (the promise is settled); before it, the answer was cut short.
      res.on("close", () => {
        done();
        reject(new Error("the connection closed before the answer was complete"));
      });
      res.on("end", () => {
        done();
        resolve({
          status: res.statusCode ?? 502,
          headers: res.headers,
          body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
        });
      });
    });
  }
}
