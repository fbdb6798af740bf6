/**
 * Ports shared by every area. A transaction is opaque to the domain: services pass it from
 * `MetadataStore.transaction` into the area stores, which know what it really is.
 */
export interface Tx {
  readonly __brand: "Tx";
}

/**
 * Checks a URL a user can set (alert receivers, webhook targets, git remotes, LLM upstreams) before
 * Tandem calls it, so nobody uses the server to reach what only the server can reach (SSRF).
 */
export interface OutboundGuard {
  /**
   * Throws ForbiddenError when the host is, or resolves to, a loopback, link-local, private or other
   * non-public address that the admin has not allowed; InvalidInputError when it is not an http(s)
   * URL or its host does not resolve. `what` names the setting in the message ("alert receiver").
   */
  check(url: string, what: string): Promise<void>;
}

export interface MetadataStore {
  readonly dialect: "sqlite" | "postgres";
  /** Runs `fn` in one transaction: all of its writes land or none do. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
