/** What the engine is built from; the composition root fills it in. */
import type { ArtifactStore } from "../../artifacts/ports.js";
import type { BuiltinServices } from "../builtins/contract.js";
import type {
  DatasetResolver,
  EnvironmentProbe,
  Executor,
  ExecutorCatalog,
  PipelineStore,
  ReferenceResolver,
  SourceControl,
  TrackingLink,
  WorkspaceAccess,
} from "../ports.js";

export interface EngineDeps {
  store: PipelineStore;
  executor: Executor;
  /** Which executors exist and whether they can work (validate's warnings); without it, none are checked. */
  executors?: ExecutorCatalog;
  artifacts: ArtifactStore;
  workspace: WorkspaceAccess;
  /** This process's lease owner id: `host:pid:random`. */
  owner: string;
  /** How long a lease lasts without renewal (default 15 000 ms). */
  leaseMs: number;
  /** How often a driver renews its lease and looks for a cancel request (default 1000 ms). */
  heartbeatMs: number;
  /** First retry delay; doubles per attempt, capped at 60 s (default 1000 ms). */
  backoffMs: number;
  /** Decrypted secret values by name; throws naming a missing one. */
  secrets(project: string, names: string[]): Promise<Record<string, string>>;
  /**
   * A keyed fingerprint of each secret's value, for cache keys: equal values give equal
   * fingerprints, and without the server's secret key a fingerprint tells nothing of the value (a
   * plain hash of a short token is a dictionary lookup). A secret not set has none (the step fails
   * when it asks for its value). Without it, a rotated secret does not change a step's key.
   */
  secretFingerprints?(project: string, names: string[]): Promise<Record<string, string>>;
  /**
   * What Tandem's own code is (its version and a digest of its build), read once: a built-in step
   * runs it, so another build reruns built-in steps (default: `unknown`).
   */
  tandemCode?: () => Promise<string>;
  datasets?: DatasetResolver;
  /** What built-in steps' `with:` fields name (without it, a builtin that declares references fails). */
  references?: ReferenceResolver;
  /** Interpreter versions for the environment digest (without it, none are recorded). */
  probe?: EnvironmentProbe;
  tracking?: TrackingLink;
  /** Records what commit a run's code is and checks out commits (without it, `code` stays unknown). */
  git?: SourceControl;
  builtinServices: BuiltinServices;
  /**
   * The API URL and the run's own token for steps (TANDEM_URL, TANDEM_TOKEN, MLFLOW_TRACKING_URI),
   * when known. `boundMs`: the longest the run may still take (null: unbounded); the token expires by then.
   */
  stepApi(run: {
    id: string;
    project: string;
    boundMs: number | null;
  }): Promise<{ url: string | null; token: string | null }>;
  /**
   * The run token's lifetime: renewed on each heartbeat while the run is driven, revoked when the run
   * ends, forgotten (left to a successor or its expiry) when this driver stops without ending it
   * (default: none, tokens are not renewed or revoked).
   */
  stepApiLease?: {
    renew(runId: string): Promise<void>;
    end(runId: string): Promise<void>;
    forget(runId: string): void;
  };
  /** Live log lines (the embedded CLI shows them). */
  onLog?: (runId: string, step: string, line: string, stream: string) => void;
}
