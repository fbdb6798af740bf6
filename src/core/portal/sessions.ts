/**
 * Browser sessions for the web UI. A user signs in with an API token once; the server answers with a
 * random session id in an HttpOnly cookie, so the token never sits in page-readable storage and
 * server-sent event streams (which cannot send an Authorization header) are authenticated too.
 *
 * Glossary:
 * - Session: a random 32-byte id standing for one API token for a limited time. Stored as its sha256.
 *   The session acts exactly as its token: same user, same caps; revoking the token ends the session.
 */
import { randomBytes } from "node:crypto";
import { UnauthenticatedError } from "../errors.js";
import { nowMs } from "../ids.js";
import type { MetadataStore } from "../ports.js";
import { hashToken } from "../governance/access.js";
import type { AuditLog } from "../governance/audit.js";
import { audited } from "../governance/audited.js";
import type { Principal } from "../governance/model.js";
import type { AccessStore } from "../governance/ports.js";
import type { SessionStore } from "./ports.js";

export interface Session {
  idHash: string;
  tokenId: string;
  userName: string;
  createdAt: number;
  expiresAt: number;
}

export interface SessionServiceOptions {
  metadata: MetadataStore;
  audit: AuditLog;
  access: AccessStore;
  sessions: SessionStore;
  /** How long a session lasts; a working day plus margin, so nobody signs in twice a day (default 12 h). */
  lifetimeMs?: number;
}

export class SessionService {
  readonly lifetimeMs: number;

  constructor(private readonly options: SessionServiceOptions) {
    this.lifetimeMs = options.lifetimeMs ?? 12 * 60 * 60 * 1000;
  }

  /** Opens a session for an authenticated token; the raw id is returned once, for the cookie. */
  async open(principal: Principal): Promise<{ id: string; expiresAt: number }> {
    if (principal.tokenId === null) throw new UnauthenticatedError("a session needs an API token: sign in with one");
    const id = randomBytes(32).toString("base64url");
    const now = nowMs();
    const session: Session = {
      idHash: hashToken(id),
      tokenId: principal.tokenId,
      userName: principal.userName,
      createdAt: now,
      expiresAt: now + this.lifetimeMs,
    };
    await audited(this.options.metadata, this.options.audit, async (tx, record) => {
      // Expired rows are swept here rather than by a loop: sign-ins are rare and this keeps the table small.
      await this.options.sessions.deleteExpired(now, tx);
      await this.options.sessions.insert(session, tx);
      await record({
        actor: principal.userName,
        project: null,
        action: "session.open",
        target: `token:${principal.tokenId}`,
      });
    });
    return { id, expiresAt: session.expiresAt };
  }

  /** Who a session cookie stands for; fails as the token would (revoked, expired, user gone). */
  async authenticate(id: string): Promise<Principal> {
    const session = await this.options.sessions.findByHash(hashToken(id));
    if (!session || session.expiresAt <= nowMs())
      throw new UnauthenticatedError("the session has ended: sign in again");
    const token = await this.options.access.getToken(session.tokenId);
    if (!token || token.revokedAt !== null)
      throw new UnauthenticatedError("the session's token was revoked: sign in again");
    if (token.expiresAt !== null && token.expiresAt <= nowMs())
      throw new UnauthenticatedError("the session's token has expired: sign in again");
    const user = await this.options.access.getUser(token.userName);
    if (!user) throw new UnauthenticatedError("the session's user no longer exists");
    return {
      userName: user.name,
      isAdmin: user.isAdmin,
      tokenId: token.id,
      tokenRole: token.role,
      tokenProject: token.project,
    };
  }

  /** Ends a session (sign out). Unknown ids are ignored: signing out twice is not an error. */
  async close(id: string): Promise<void> {
    await audited(this.options.metadata, this.options.audit, async (tx, record) => {
      const gone = await this.options.sessions.deleteByHash(hashToken(id), tx);
      if (gone)
        await record({ actor: gone.userName, project: null, action: "session.close", target: `token:${gone.tokenId}` });
    });
  }
}
