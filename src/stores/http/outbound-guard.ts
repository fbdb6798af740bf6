/**
 * The one SSRF guard for every outbound call to a URL a user can set: alert receivers, webhook
 * targets, git remotes, LLM upstreams. Only public unicast addresses are reachable, unless the admin
 * allows more with TANDEM_OUTBOUND_ALLOW (addresses, CIDR ranges, host names, `*.suffix`, or `*`).
 *
 * Names are resolved and every address they resolve to is checked, when a URL is set (`check`) and
 * again when a connection is made (`fetch` passes `lookup` to the socket), so a name that resolves
 * to a public address when set and to 127.0.0.1 later (DNS rebinding) is still refused. Redirects
 * are never followed: a 3xx comes back to the caller as it is.
 */
import { lookup as lookupCallback, type LookupAddress } from "node:dns";
import { lookup as lookupPromise } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
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
}

export class AddressOutboundGuard implements OutboundGuard {
  private readonly allow: AllowList;

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

  /** Parses the URL and checks its host and every address it resolves to; returns the parsed URL. */
  async checked(url: string, what: string): Promise<URL> {
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

  /**
   * fetch() for user-set URLs: checks the URL, connects through the guarded lookup, never follows a
   * redirect. Answers a standard Response whose body streams.
   */
  async fetch(url: string, what: string, init: GuardedFetchInit = {}): Promise<Response> {
    const target = await this.checked(url, what);
    const request = target.protocol === "https:" ? httpsRequest : httpRequest;
    const method = (init.method ?? "GET").toUpperCase();
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        target,
        { method, headers: init.headers, signal: init.signal, lookup: this.lookup },
        (res: IncomingMessage) => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const item of v) headers.append(k, item);
            else if (v !== undefined) headers.set(k, v);
          }
          const status = res.statusCode ?? 502;
          const noBody = method === "HEAD" || status === 204 || status === 205 || status === 304;
          if (noBody) res.resume();
          resolve(
            new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
              status,
              statusText: res.statusMessage,
              headers,
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(init.body);
    });
  }
}
