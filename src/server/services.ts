/**
 * Everything a route may call. Areas add their services by declaration merging in their own files:
 *   declare module "../services.js" { interface Services { tracking: TrackingService } }
 * and main.ts (the composition root) constructs them.
 */
import type { Config } from "../config.js";
import type { ArtifactStore } from "../core/artifacts/ports.js";
import type { AccessService } from "../core/governance/access.js";
import type { AuditLog } from "../core/governance/audit.js";
import type { Logger } from "../core/logger.js";
import type { MetadataStore, UserCodeLauncher } from "../core/ports.js";
import type { AddressOutboundGuard } from "../stores/http/outbound-guard.js";
import type { BackgroundTask } from "./background.js";

export interface Services {
  config: Config;
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  access: AccessService;
  audit: AuditLog;
  /** The SSRF guard: every call to a URL a user can set goes through `check` or `fetch` (TANDEM_OUTBOUND_ALLOW). */
  outbound: AddressOutboundGuard;
  /**
   * How code a project wrote starts outside a pipeline step (a model served as code, a `command:`
   * scorer): in the steps' sandbox, never in the server's name.
   */
  userCode: UserCodeLauncher;
  /** The process's log; areas take a child with their name: `logger.child({ area: "serving" })`. */
  logger: Logger;
  /** Things to stop when the process shuts down (background loops, child processes), last first. */
  closers: Array<() => Promise<void> | void>;
  /**
   * Loops that `tandem server` runs (schedulers, lease sweepers, monitors). The embedded CLI does not
   * start them. `start` returns at once; the loop stops when `signal` aborts.
   */
  background: BackgroundTask[];
}
