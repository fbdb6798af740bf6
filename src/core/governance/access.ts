/**
 * Users, projects, memberships and tokens, and the two questions every request asks: who is this
 * (authenticate) and may they do this here (authorize).
 */
import { createHash, randomBytes } from "node:crypto";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, UnauthenticatedError } from "../errors.js";
import { newId, nowMs } from "../ids.js";
import type { MetadataStore } from "../ports.js";
import type { AuditLog } from "./audit.js";
import { audited } from "./audited.js";
import {
  DEFAULT_PROJECT,
  SYSTEM_USER,
  lowerRole,
  roleAtLeast,
  type ApiToken,
  type Membership,
  type Principal,
  type Project,
  type Role,
  type TokenScope,
  type User,
} from "./model.js";
import type { AccessStore } from "./ports.js";

const TOKEN_PREFIX = "tdm_";
const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function checkName(kind: string, name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidInputError(
      `${kind} name ${JSON.stringify(name)} is not valid: use letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit)`,
    );
  }
}

/** `github:octocat`, `gitlab:alice`: a provider, a colon, the name the provider reports for the pusher. */
export function checkIdentity(identity: string): void {
  if (!/^[a-z][a-z0-9-]{0,30}:\S{1,200}$/.test(identity))
    throw new InvalidInputError(
      `git identity ${JSON.stringify(identity)} is not valid: expected <provider>:<name>, e.g. github:octocat or gitlab:alice`,
    );
}

export interface CreateTokenOptions {
  userName: string;
  name: string;
  /** Cap the token to this role (default: none, the user's own roles apply). */
  role?: Role | null;
  /** Restrict the token to one project (default: every project of the user). */
  project?: string | null;
  /** Expiry in ms since the epoch (default: never). */
  expiresAt?: number | null;
  /** The pipeline run this token is for (default: none, a person's token). */
  runId?: string | null;
  /** Limit it to a kind of work (default: none). */
  scope?: TokenScope | null;
  /** A run token's bound: never renewed past it (default: none). */
  renewableUntil?: number | null;
}

export class AccessService {
  /**
   * Projects known to exist. A project row is never updated or deleted, so once seen it stays true;
   * every state-changing request asks (app.ts), and the read was a round trip each on Postgres.
   */
  private readonly knownProjects = new Map<string, Project>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly store: AccessStore,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Makes the users and project every store needs. On an empty store it also creates the first admin
   * and returns its token, which the caller keeps in `<home>/admin.token`; afterwards it returns null.
   */
  async bootstrap(): Promise<{ adminToken: string } | null> {
    const now = nowMs();
    const first = await this.store.setMetaOnce("bootstrapped_at", String(now));
    if (!first) return null;
    return audited(this.metadata, this.audit, async (tx, record) => {
      if (!(await this.store.getUser(SYSTEM_USER, tx))) {
        await this.store.insertUser(
          { name: SYSTEM_USER, displayName: "Tandem (automatic actions)", isAdmin: true, createdAt: now },
          tx,
        );
      }
      if (!(await this.store.getUser("admin", tx))) {
        await this.store.insertUser({ name: "admin", displayName: "Administrator", isAdmin: true, createdAt: now }, tx);
      }
      await this.store.ensureProject(
        { name: DEFAULT_PROJECT, description: "Default project", createdAt: now, createdBy: SYSTEM_USER },
        tx,
      );
      const { token, record: tokenRecord } = this.makeToken({ userName: "admin", name: "first admin token" });
      await this.store.insertToken(tokenRecord, hashToken(token), tx);
      await record({
        actor: SYSTEM_USER,
        project: null,
        action: "store.bootstrap",
        target: "user:admin",
        summary: { token_id: tokenRecord.id },
      });
      return { adminToken: token };
    });
  }

  /**
   * Answers of authenticate and roleIn, kept for a moment: the serving path calls both on every
   * request, and the two lookups were about a fifth of its CPU. Changes made in this process clear
   * the cache at once; another process's revocation or role change takes effect within the TTL.
   */
  private readonly principals = new Map<
    string,
    { at: number; principal: Principal | null; error?: string; expiresAt?: number | null }
  >();
  private readonly roles = new Map<string, { at: number; role: Role | null }>();
  /** How long a cached answer lives, ms (default 2 s). */
  static cacheTtlMs = 2000;

  private invalidate(): void {
    this.principals.clear();
    this.roles.clear();
  }

  async authenticate(rawToken: string | undefined): Promise<Principal> {
    if (!rawToken) throw new UnauthenticatedError("a token is required: send Authorization: Bearer <token>");
    // Keyed by the token itself, so a cached answer costs no SHA-256 (~3% of a serving process's
    // CPU); the map lives in this process's memory, which sees every request's token anyway.
    const cached = this.principals.get(rawToken);
    // A cached answer never outlives the token's own expiry (a run's token may have seconds left).
    const now = nowMs();
    if (cached && now - cached.at < AccessService.cacheTtlMs && (cached.expiresAt ?? Infinity) > now) {
      if (cached.principal) return cached.principal;
      throw new UnauthenticatedError(cached.error ?? "the token is not valid");
    }
    try {
      const { principal, expiresAt } = await this.lookUpPrincipal(hashToken(rawToken));
      this.remember(this.principals, rawToken, { at: nowMs(), principal, expiresAt });
      return principal;
    } catch (error) {
      if (error instanceof UnauthenticatedError)
        this.remember(this.principals, rawToken, { at: nowMs(), principal: null, error: error.message });
      throw error;
    }
  }

  /** Bounded: a flood of random tokens must not grow memory without limit. */
  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= 10_000) map.clear();
    map.set(key, value);
  }

  private async lookUpPrincipal(hash: string): Promise<{ principal: Principal; expiresAt: number | null }> {
    const token = await this.store.findTokenByHash(hash);
    if (!token) throw new UnauthenticatedError("the token is not valid");
    if (token.revokedAt !== null) throw new UnauthenticatedError("the token was revoked");
    if (token.expiresAt !== null && token.expiresAt <= nowMs()) throw new UnauthenticatedError("the token has expired");
    const user = await this.store.getUser(token.userName);
    if (!user) throw new UnauthenticatedError("the token's user no longer exists");
    const principal: Principal = {
      userName: user.name,
      isAdmin: user.isAdmin,
      tokenId: token.id,
      tokenRole: token.role,
      tokenProject: token.project,
      runId: token.runId ?? null,
      tokenScope: token.scope ?? null,
    };
    return { principal, expiresAt: token.expiresAt };
  }

  /** The role a principal acts with in a project, capped by its token; null when it has none. */
  async roleIn(principal: Principal, project: string): Promise<Role | null> {
    if (principal.tokenProject !== null && principal.tokenProject !== project) return null;
    let own: Role | null;
    if (principal.isAdmin) own = "admin";
    else {
      const key = `${project}\u0000${principal.userName}`;
      const cached = this.roles.get(key);
      if (cached && nowMs() - cached.at < AccessService.cacheTtlMs) own = cached.role;
      else {
        own = await this.store.getRole(project, principal.userName);
        this.remember(this.roles, key, { at: nowMs(), role: own });
      }
    }
    if (own === null) return null;
    return principal.tokenRole ? lowerRole(own, principal.tokenRole) : own;
  }

  /** A user's own role in a project (site admins: admin), without a token's caps; null when none or unknown. */
  async roleOfUser(userName: string, project: string): Promise<Role | null> {
    const user = await this.store.getUser(userName);
    if (!user) return null;
    return this.roleIn(
      { userName, isAdmin: user.isAdmin, tokenId: null, tokenRole: null, tokenProject: null },
      project,
    );
  }

  async authorize(principal: Principal, project: string, required: Role): Promise<Role> {
    const role = await this.roleIn(principal, project);
    if (!roleAtLeast(role, required)) {
      throw new ForbiddenError(
        `${principal.userName} needs the ${required} role in project ${project} (has ${role ?? "none"})`,
      );
    }
    return role!;
  }

  /** Server-wide actions (users, site settings) need a site admin whose token is not capped lower. */
  requireSiteAdmin(principal: Principal): void {
    if (
      !principal.isAdmin ||
      (principal.tokenRole !== null && principal.tokenRole !== "admin") ||
      principal.tokenProject !== null
    ) {
      throw new ForbiddenError(`${principal.userName} is not a site administrator`);
    }
  }

  /** Returns the project, creating it on first use as MLflow creates its Default experiment. */
  async ensureProject(name: string, actor: string): Promise<Project> {
    const known = this.knownProjects.get(name);
    if (known) return known;
    checkName("project", name);
    const existing = await this.store.getProject(name);
    if (existing) return this.rememberProject(existing);
    const project: Project = { name, description: "", createdAt: nowMs(), createdBy: actor };
    await audited(this.metadata, this.audit, async (tx, record) => {
      if (await this.store.ensureProject(project, tx)) {
        await record({ actor, project: name, action: "project.create", target: `project:${name}` });
      }
    });
    return this.rememberProject((await this.store.getProject(name))!);
  }

  private rememberProject(project: Project): Project {
    this.remember(this.knownProjects, project.name, project);
    return project;
  }

  listProjects(): Promise<Project[]> {
    return this.store.listProjects();
  }

  async addUser(actor: string, input: { name: string; displayName?: string; isAdmin?: boolean }): Promise<User> {
    checkName("user", input.name);
    const user: User = {
      name: input.name,
      displayName: input.displayName ?? input.name,
      isAdmin: input.isAdmin ?? false,
      createdAt: nowMs(),
    };
    return audited(this.metadata, this.audit, async (tx, record) => {
      if (await this.store.getUser(user.name, tx)) throw new ConflictError(`user ${user.name} already exists`);
      await this.store.insertUser(user, tx);
      await record({
        actor,
        project: null,
        action: "user.create",
        target: `user:${user.name}`,
        summary: { is_admin: user.isAdmin },
      });
      return user;
    });
  }

  listUsers(): Promise<User[]> {
    return this.store.listUsers();
  }

  // ---- git identities: who a pusher is ----

  /**
   * The user behind a git identity (`github:<login>`, `gitlab:<username>`), or null: an unmapped
   * pusher is nobody. Used for the person behind a push-triggered run and whether they may change
   * policies (a pushed tandem.yaml's `policies:` need an admin like any apply).
   */
  userForIdentity(identity: string): Promise<string | null> {
    return this.store.userForIdentity(identity);
  }

  identitiesOf(userName: string): Promise<string[]> {
    return this.store.identitiesOf(userName);
  }

  /** Maps a git identity to a user (site admins only: it decides whose work a pushed commit is). */
  async mapIdentity(actor: Principal, identity: string, userName: string): Promise<void> {
    this.requireSiteAdmin(actor);
    checkIdentity(identity);
    await audited(this.metadata, this.audit, async (tx, record) => {
      if (!(await this.store.getUser(userName, tx))) throw new NotFoundError(`user ${userName} does not exist`);
      const before = await this.store.userForIdentity(identity, tx);
      await this.store.putIdentity(identity, userName, actor.userName, nowMs(), tx);
      await record({
        actor: actor.userName,
        project: null,
        action: "user.identity.map",
        target: `user:${userName}`,
        summary: { identity, before },
      });
    });
  }

  async unmapIdentity(actor: Principal, identity: string): Promise<void> {
    this.requireSiteAdmin(actor);
    await audited(this.metadata, this.audit, async (tx, record) => {
      const before = await this.store.userForIdentity(identity, tx);
      if (!(await this.store.deleteIdentity(identity, tx)))
        throw new NotFoundError(`git identity ${identity} is not mapped to anyone`);
      await record({
        actor: actor.userName,
        project: null,
        action: "user.identity.unmap",
        target: `user:${before}`,
        summary: { identity },
      });
    });
  }

  async setMember(actor: string, m: Membership): Promise<void> {
    this.invalidate();
    try {
      await audited(this.metadata, this.audit, async (tx, record) => {
        if (!(await this.store.getUser(m.userName, tx))) throw new NotFoundError(`user ${m.userName} does not exist`);
        if (!(await this.store.getProject(m.project, tx)))
          throw new NotFoundError(`project ${m.project} does not exist`);
        const before = await this.store.getRole(m.project, m.userName, tx);
        await this.store.setMembership(m, tx);
        await record({
          actor,
          project: m.project,
          action: "member.set",
          target: `user:${m.userName}`,
          summary: { before, after: m.role },
        });
      });
    } finally {
      // Again after the change, so a lookup made while it ran does not keep the old answer.
      this.invalidate();
    }
  }

  async removeMember(actor: string, project: string, userName: string): Promise<void> {
    this.invalidate();
    try {
      await audited(this.metadata, this.audit, async (tx, record) => {
        const before = await this.store.getRole(project, userName, tx);
        if (before === null) throw new NotFoundError(`${userName} is not a member of ${project}`);
        await this.store.removeMembership(project, userName, tx);
        await record({ actor, project, action: "member.remove", target: `user:${userName}`, summary: { before } });
      });
    } finally {
      // Again after the change, so a lookup made while it ran does not keep the old answer.
      this.invalidate();
    }
  }

  listMembers(project: string): Promise<Membership[]> {
    return this.store.listMembers(project);
  }

  private makeToken(options: CreateTokenOptions): { token: string; record: ApiToken } {
    const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    const record: ApiToken = {
      id: newId().slice(0, 16),
      userName: options.userName,
      name: options.name,
      role: options.role ?? null,
      project: options.project ?? null,
      expiresAt: options.expiresAt ?? null,
      createdAt: nowMs(),
      revokedAt: null,
      runId: options.runId ?? null,
      scope: options.scope ?? null,
      renewableUntil: options.renewableUntil ?? null,
    };
    return { token, record };
  }

  /** Creates a token; the raw value is returned once and only its hash is stored. */
  async createToken(actor: Principal, options: CreateTokenOptions): Promise<{ token: string; record: ApiToken }> {
    if (options.userName !== actor.userName) this.requireSiteAdmin(actor);
    if (options.expiresAt != null && options.expiresAt <= nowMs())
      throw new InvalidInputError("expires_at is in the past");
    return audited(this.metadata, this.audit, async (tx, record) => {
      if (!(await this.store.getUser(options.userName, tx)))
        throw new NotFoundError(`user ${options.userName} does not exist`);
      const made = this.makeToken(options);
      await this.store.insertToken(made.record, hashToken(made.token), tx);
      await record({
        actor: actor.userName,
        project: made.record.project,
        action: "token.create",
        target: `token:${made.record.id}`,
        summary: { user: made.record.userName, name: made.record.name, role: made.record.role },
      });
      return made;
    });
  }

  listTokens(actor: Principal, userName?: string): Promise<ApiToken[]> {
    if (userName && userName !== actor.userName) this.requireSiteAdmin(actor);
    const who = userName ?? (actor.isAdmin && actor.tokenRole === null ? null : actor.userName);
    return this.store.listTokens(who);
  }

  /**
   * Moves the expiry of a pipeline run's tokens (renewed while its run is driven, by whichever
   * process drives it: a successor keeps alive the token a reattached remote step still holds, and
   * revives it when every server was down longer than the window), never past their run's bound.
   * Not an audited change: a lease renewal of tokens whose creation and revocation are audited.
   */
  async renewRunTokens(runId: string, expiresAt: number): Promise<void> {
    await this.store.setRunTokensExpiry(runId, expiresAt, nowMs());
    this.invalidate();
  }

  /** Revokes every token of a pipeline run (its run has ended), each audited as token.revoke. */
  async revokeRunTokens(actor: Principal, runId: string): Promise<void> {
    for (const token of await this.store.liveRunTokens(runId)) await this.revokeToken(actor, token.id);
  }

  async revokeToken(actor: Principal, id: string): Promise<void> {
    this.invalidate();
    try {
      await audited(this.metadata, this.audit, async (tx, record) => {
        const token = await this.store.getToken(id, tx);
        if (!token) throw new NotFoundError(`token ${id} does not exist`);
        if (token.userName !== actor.userName) this.requireSiteAdmin(actor);
        if (token.revokedAt !== null) return;
        await this.store.revokeToken(id, nowMs(), tx);
        await record({ actor: actor.userName, project: token.project, action: "token.revoke", target: `token:${id}` });
      });
    } finally {
      // Again after the change, so a lookup made while it ran does not keep the old answer.
      this.invalidate();
    }
  }
}
