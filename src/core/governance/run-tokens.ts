/**
 * A pipeline run's own API token, the `TANDEM_TOKEN` and `MLFLOW_TRACKING_TOKEN` of its steps.
 *
 * - Limited to the run's project and capped at `member`; a policy in force may lower it to
 *   tracking only (`step_token: tracking`).
 * - Bound to the run (`runId`): what a step does through the API is attributed to the person behind
 *   the run, never to `system` alone.
 * - Alive only while its run is driven: issued when the first step needs it, renewed a window at a
 *   time by the heartbeat of whichever process drives the run (a server that dies leaves a token
 *   that expires within the window unless a successor takes the run over), never past the run's
 *   time bound (its steps' timeouts, when every step has one), and revoked when the run ends.
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
  /**
   * `tracking`: the token may only log to tracking (a policy's `step_token`; default: none). A
   * function is called only when the token is made, not for each step that shares it.
   */
  scope?: TokenScope | null | (() => Promise<TokenScope | null>);
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
  /** When the run's tokens expire and the bound they never pass, per run this process drives. */
  private readonly renewal = new Map<string, { expiresAt: number; deadline: number | null }>();
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
    const scope = typeof run.scope === "function" ? await run.scope() : (run.scope ?? null);
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
      scope,
      renewableUntil: deadline,
    });
    return { token: made.token, id: made.record.id, expiresAt, deadline };
  }

  /**
   * Extends the run's tokens when half their window has passed (cheap to call every heartbeat). All
   * of the run's live tokens, not only this process's: after a takeover, a remote step reattached to
   * keeps the token an earlier driver gave it.
   */
  async renew(runId: string): Promise<void> {
    let state = this.renewal.get(runId);
    if (!state) {
      const made = await this.live.get(runId)?.catch(() => null);
      state = { expiresAt: made?.expiresAt ?? 0, deadline: made?.deadline ?? null };
      this.renewal.set(runId, state);
    }
    const now = nowMs();
    if (state.expiresAt - now > this.windowMs / 2) return;
    const next = Math.min(now + this.windowMs, state.deadline ?? Infinity);
    if (next <= state.expiresAt) return;
    await this.access.renewRunTokens(runId, next);
    state.expiresAt = next;
  }

  /** The run has ended: revokes every token it has (whoever made them) and forgets it here. */
  async end(runId: string): Promise<void> {
    const made = this.live.get(runId);
    this.forget(runId);
    await made?.catch(() => null);
    await this.access.revokeRunTokens(SYSTEM_PRINCIPAL, runId);
  }

  /**
   * This process stops driving the run (it stops, or another took the run over): forget it here and
   * leave its tokens to the driver that carries on, or to their expiry.
   */
  forget(runId: string): void {
    this.live.delete(runId);
    this.renewal.delete(runId);
  }

  /** How many runs hold a token in this process (what a test checks the map is cleaned with). */
  get size(): number {
    return new Set([...this.live.keys(), ...this.renewal.keys()]).size;
  }
}
