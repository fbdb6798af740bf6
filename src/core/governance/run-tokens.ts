/**
 * A pipeline run's own API token, the `TANDEM_TOKEN` and `MLFLOW_TRACKING_TOKEN` of its steps.
 *
 * - Limited to the run's project and capped at `member`; a policy in force may lower it to
 *   tracking only (`step_token: tracking`).
 * - Bound to the run (`runId`): what a step does through the API is attributed to the person behind
 *   the run, never to `system` alone.
 * - Alive only while its run is driven: issued when the first step needs it, renewed a window at a
 *   time by the driver's heartbeat (a server that dies leaves a token that expires within the
 *   window), never past the run's time bound (its steps' timeouts, when every step has one), and
 *   revoked when the driver lets the run go (it ended, this process stops, or another took it over).
 */
import { nowMs } from "../ids.js";
import type { AccessService } from "./access.js";
import { SYSTEM_USER, type Principal, type TokenScope } from "./model.js";

export interface RunTokenOptions {
  /** How long a token lives past its last renewal, ms (default 10 min). */
  windowMs?: number;
}

interface LiveToken {
  token: string;
  id: string;
  expiresAt: number;
  /** Never renewed past this (null: the run has no time bound). */
  deadline: number | null;
}

export interface RunTokenRequest {
  id: string;
  project: string;
  /** The longest the run may still take from now, ms (null: no bound, the token lives while renewed). */
  boundMs?: number | null;
  /** `tracking`: the token may only log to tracking (a policy's `step_token`; default: none). */
  scope?: TokenScope | null;
}

const SYSTEM_PRINCIPAL: Principal = {
  userName: SYSTEM_USER,
  isAdmin: true,
  tokenId: null,
  tokenRole: null,
  tokenProject: null,
};

export class RunTokens {
  private readonly live = new Map<string, Promise<LiveToken>>();
  private readonly windowMs: number;

  constructor(
    private readonly access: AccessService,
    options: RunTokenOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 10 * 60_000;
  }

  /** The run's token, made on first use; steps that start together share one. */
  async issue(run: RunTokenRequest): Promise<string> {
    let live = this.live.get(run.id);
    if (!live) {
      live = this.create(run);
      this.live.set(run.id, live);
      live.catch(() => this.live.delete(run.id));
    }
    return (await live).token;
  }

  private async create(run: RunTokenRequest): Promise<LiveToken> {
    const now = nowMs();
    const deadline = run.boundMs != null ? now + run.boundMs : null;
    const expiresAt = Math.min(now + this.windowMs, deadline ?? Infinity);
    const made = await this.access.createToken(SYSTEM_PRINCIPAL, {
      userName: SYSTEM_USER,
      name: `pipeline run ${run.id}`,
      role: "member",
      project: run.project,
      expiresAt,
      runId: run.id,
      scope: run.scope ?? null,
    });
    return { token: made.token, id: made.record.id, expiresAt, deadline };
  }

  /** Extends the run's token when half its window has passed (cheap to call every heartbeat). */
  async renew(runId: string): Promise<void> {
    const live = await this.live.get(runId)?.catch(() => null);
    if (!live) return;
    const now = nowMs();
    if (live.expiresAt - now > this.windowMs / 2) return;
    const next = Math.min(now + this.windowMs, live.deadline ?? Infinity);
    if (next <= live.expiresAt) return;
    await this.access.renewToken(live.id, next);
    live.expiresAt = next;
  }

  /** Revokes the run's token and forgets it; nothing happens when it never had one. */
  async end(runId: string): Promise<void> {
    const live = this.live.get(runId);
    if (!live) return;
    this.live.delete(runId);
    const made = await live.catch(() => null);
    if (made) await this.access.revokeToken(SYSTEM_PRINCIPAL, made.id);
  }

  /** How many runs hold a token in this process (what a test checks the map is cleaned with). */
  get size(): number {
    return this.live.size;
  }
}
