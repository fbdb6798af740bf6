import type { Tx } from "../ports.js";
import type { ApiToken, AuditEvent, Membership, Project, Role, User } from "./model.js";

export interface AccessStore {
  getProject(name: string, tx?: Tx): Promise<Project | null>;
  /** Creates the project unless it exists; returns true when it was created. */
  ensureProject(project: Project, tx?: Tx): Promise<boolean>;
  listProjects(tx?: Tx): Promise<Project[]>;
  getUser(name: string, tx?: Tx): Promise<User | null>;
  insertUser(user: User, tx?: Tx): Promise<void>;
  listUsers(tx?: Tx): Promise<User[]>;
  setMembership(m: Membership, tx?: Tx): Promise<void>;
  removeMembership(project: string, userName: string, tx?: Tx): Promise<void>;
  getRole(project: string, userName: string, tx?: Tx): Promise<Role | null>;
  listMembers(project: string, tx?: Tx): Promise<Membership[]>;
  insertToken(token: ApiToken, tokenHash: string, tx?: Tx): Promise<void>;
  findTokenByHash(tokenHash: string, tx?: Tx): Promise<ApiToken | null>;
  listTokens(userName: string | null, tx?: Tx): Promise<ApiToken[]>;
  getToken(id: string, tx?: Tx): Promise<ApiToken | null>;
  revokeToken(id: string, at: number, tx?: Tx): Promise<void>;
  /**
   * Moves the expiry of every token of a pipeline run that is not revoked and not past its bound
   * (`renewableUntil`), whichever process made it, and never past that bound. An expired one is
   * revived: only the run's driver calls this, and the run's end revokes its tokens for good.
   */
  setRunTokensExpiry(runId: string, expiresAt: number, now: number, tx?: Tx): Promise<void>;
  /** Ids of the run's tokens not revoked yet. */
  liveRunTokens(runId: string, tx?: Tx): Promise<ApiToken[]>;
  /** The user a git identity (`github:octocat`) is mapped to, or null. */
  userForIdentity(identity: string, tx?: Tx): Promise<string | null>;
  identitiesOf(userName: string, tx?: Tx): Promise<string[]>;
  /** Maps (or re-maps) an identity to a user. */
  putIdentity(identity: string, userName: string, actor: string, at: number, tx?: Tx): Promise<void>;
  /** True when it existed. */
  deleteIdentity(identity: string, tx?: Tx): Promise<boolean>;
  getMeta(key: string, tx?: Tx): Promise<string | null>;
  /** Sets the key only if absent; returns true if this call set it (a race-free "first time"). */
  setMetaOnce(key: string, value: string, tx?: Tx): Promise<boolean>;
}

export interface AuditStore {
  /**
   * Appends an event after the current newest one, serialised against concurrent appenders (in this
   * and in other processes); `seal` computes the hash from the previous hash.
   */
  append(tx: Tx, seal: (prevHash: string) => Omit<AuditEvent, "seq">): Promise<AuditEvent>;
  /**
   * A store may chain at commit instead (Postgres: no lock held across round trips); then `append`
   * returns the event with `hash: ""`, and this reads its final seq and hash once committed.
   */
  sealed(id: string): Promise<AuditEvent | null>;
  list(
    options: { project?: string; afterSeq?: number; limit: number; descending?: boolean },
    tx?: Tx,
  ): Promise<AuditEvent[]>;
  newest(tx?: Tx): Promise<AuditEvent | null>;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

/**
 * Keeps the newest audit hash outside the database, so deleting the newest rows is caught. Writes
 * are compare-and-set, so of several writers (processes, servers) none moves the head backwards:
 * a file under a lock here; an object store's conditional put (S3 `If-Match` on the ETag) fits the
 * same two calls for several servers.
 */
export interface AuditHeadKeeper {
  /** Where the head is kept, for messages ("/srv/tandem/audit.head"). */
  readonly location: string;
  /** The head and an opaque version of it for `compareAndSet`; null when none is kept yet. */
  read(): Promise<{ head: AuditHead; version: string } | null>;
  /**
   * Writes `next` only if the kept head is still at `expected` (its version from `read`, or null
   * for "none yet"); returns false, writing nothing, when another writer changed it meanwhile.
   */
  compareAndSet(expected: string | null, next: AuditHead): Promise<boolean>;
}
