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

/** Code a project wrote, as the server is asked to start it (a served model, an evaluation's scorer). */
export interface UserCommand {
  /** The program and its arguments. */
  command: string[];
  /** Its working directory. */
  dir: string;
  /** What it is told besides the scrubbed environment (PORT, TANDEM_MODEL…). */
  env: Record<string, string>;
  /** `dir` is seen read-only (a served model's files, shared by every endpoint serving them; default false). */
  readOnlyDir?: boolean;
  /** Folders hidden from steps that it sees again (its run's checkout; default none). */
  show?: readonly string[];
}

/**
 * Starts code a project wrote the way steps are started (executors/local/user-code-sandbox.ts): the
 * argv to spawn, its environment (never the server's settings or credentials), and whether it is
 * inside the sandbox. The server runs nothing a project wrote in its own name.
 */
export type UserCodeLauncher = (
  code: UserCommand,
) => Promise<{ argv: string[]; env: Record<string, string>; sandboxed: boolean }>;

export interface MetadataStore {
  readonly dialect: "sqlite" | "postgres";
  /** Runs `fn` in one transaction: all of its writes land or none do. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
