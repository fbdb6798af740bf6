import type { AccessStore } from "../../core/governance/ports.js";
import {
  isRole,
  type ApiToken,
  type Membership,
  type Project,
  type Role,
  type User,
} from "../../core/governance/model.js";
import { sql } from "kysely";
import type { Tx } from "../../core/ports.js";
import type { ProjectRow, TokenRow, UserRow } from "./schema.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

function toProject(row: ProjectRow): Project {
  return { name: row.name, description: row.description, createdAt: row.created_at, createdBy: row.created_by };
}

function toUser(row: UserRow): User {
  return { name: row.name, displayName: row.display_name, isAdmin: row.is_admin === 1, createdAt: row.created_at };
}

function toRole(value: string | null): Role | null {
  return value !== null && isRole(value) ? value : null;
}

function toToken(row: TokenRow): ApiToken {
  return {
    id: row.id,
    userName: row.user_name,
    name: row.name,
    role: toRole(row.role),
    project: row.project,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    runId: row.run_id ?? null,
    scope: row.scope === "tracking" ? "tracking" : null,
    renewableUntil: row.renewable_until === null ? null : Number(row.renewable_until),
  };
}

export class SqlAccessStore implements AccessStore {
  constructor(private readonly store: SqlMetadataStore) {}

  async getProject(name: string, tx?: Tx): Promise<Project | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("projects")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? toProject(row) : null;
  }

  async ensureProject(p: Project, tx?: Tx): Promise<boolean> {
    const result = await dbOf(this.store, tx)
      .insertInto("projects")
      .values({ name: p.name, description: p.description, created_at: p.createdAt, created_by: p.createdBy })
      .onConflict((oc) => oc.column("name").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async listProjects(tx?: Tx): Promise<Project[]> {
    const rows = await dbOf(this.store, tx).selectFrom("projects").selectAll().orderBy("name").execute();
    return rows.map(toProject);
  }

  async getUser(name: string, tx?: Tx): Promise<User | null> {
    const row = await dbOf(this.store, tx).selectFrom("users").selectAll().where("name", "=", name).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async insertUser(u: User, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("users")
      .values({ name: u.name, display_name: u.displayName, is_admin: u.isAdmin ? 1 : 0, created_at: u.createdAt })
      .execute();
  }

  async listUsers(tx?: Tx): Promise<User[]> {
    const rows = await dbOf(this.store, tx).selectFrom("users").selectAll().orderBy("name").execute();
    return rows.map(toUser);
  }

  async setMembership(m: Membership, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("project_members")
      .values({ project: m.project, user_name: m.userName, role: m.role, created_at: Date.now() })
      .onConflict((oc) => oc.columns(["project", "user_name"]).doUpdateSet({ role: m.role }))
      .execute();
  }

  async removeMembership(project: string, userName: string, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .deleteFrom("project_members")
      .where("project", "=", project)
      .where("user_name", "=", userName)
      .execute();
  }

  async getRole(project: string, userName: string, tx?: Tx): Promise<Role | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("project_members")
      .select("role")
      .where("project", "=", project)
      .where("user_name", "=", userName)
      .executeTakeFirst();
    return row ? toRole(row.role) : null;
  }

  async listMembers(project: string, tx?: Tx): Promise<Membership[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("project_members")
      .selectAll()
      .where("project", "=", project)
      .orderBy("user_name")
      .execute();
    return rows.flatMap((r) => {
      const role = toRole(r.role);
      return role ? [{ project: r.project, userName: r.user_name, role }] : [];
    });
  }

  async insertToken(t: ApiToken, tokenHash: string, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("api_tokens")
      .values({
        id: t.id,
        user_name: t.userName,
        name: t.name,
        token_hash: tokenHash,
        role: t.role,
        project: t.project,
        expires_at: t.expiresAt,
        created_at: t.createdAt,
        revoked_at: t.revokedAt,
        run_id: t.runId ?? null,
        scope: t.scope ?? null,
        renewable_until: t.renewableUntil ?? null,
      })
      .execute();
  }

  async userForIdentity(identity: string, tx?: Tx): Promise<string | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("user_identities")
      .select("user_name")
      .where("identity", "=", identity)
      .executeTakeFirst();
    return row?.user_name ?? null;
  }

  async identitiesOf(userName: string, tx?: Tx): Promise<string[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("user_identities")
      .select("identity")
      .where("user_name", "=", userName)
      .orderBy("identity")
      .execute();
    return rows.map((r) => r.identity);
  }

  async putIdentity(identity: string, userName: string, actor: string, at: number, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("user_identities")
      .values({ identity, user_name: userName, created_at: at, created_by: actor })
      .onConflict((oc) => oc.column("identity").doUpdateSet({ user_name: userName, created_at: at, created_by: actor }))
      .execute();
  }

  async deleteIdentity(identity: string, tx?: Tx): Promise<boolean> {
    const r = await dbOf(this.store, tx)
      .deleteFrom("user_identities")
      .where("identity", "=", identity)
      .executeTakeFirst();
    return Number(r.numDeletedRows ?? 0) > 0;
  }

  async findTokenByHash(tokenHash: string, tx?: Tx): Promise<ApiToken | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("api_tokens")
      .selectAll()
      .where("token_hash", "=", tokenHash)
      .executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async listTokens(userName: string | null, tx?: Tx): Promise<ApiToken[]> {
    let query = dbOf(this.store, tx).selectFrom("api_tokens").selectAll().orderBy("created_at");
    if (userName !== null) query = query.where("user_name", "=", userName);
    return (await query.execute()).map(toToken);
  }

  async getToken(id: string, tx?: Tx): Promise<ApiToken | null> {
    const row = await dbOf(this.store, tx).selectFrom("api_tokens").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async revokeToken(id: string, at: number, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx).updateTable("api_tokens").set({ revoked_at: at }).where("id", "=", id).execute();
  }

  async setRunTokensExpiry(runId: string, expiresAt: number, now: number, tx?: Tx): Promise<void> {
    // Expired ones too (revived: the run is driven again after an outage longer than the window),
    // never a revoked one, and never past the token's bound.
    await dbOf(this.store, tx)
      .updateTable("api_tokens")
      .set({
        expires_at: sql<number>`CASE WHEN renewable_until IS NOT NULL AND renewable_until < ${expiresAt} THEN renewable_until ELSE ${expiresAt} END`,
      })
      .where("run_id", "=", runId)
      .where("revoked_at", "is", null)
      .where((eb) => eb.or([eb("renewable_until", "is", null), eb("renewable_until", ">", now)]))
      .execute();
  }

  async liveRunTokens(runId: string, tx?: Tx): Promise<ApiToken[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("api_tokens")
      .selectAll()
      .where("run_id", "=", runId)
      .where("revoked_at", "is", null)
      .execute();
    return rows.map(toToken);
  }

  async getMeta(key: string, tx?: Tx): Promise<string | null> {
    const row = await dbOf(this.store, tx).selectFrom("meta").select("value").where("key", "=", key).executeTakeFirst();
    return row?.value ?? null;
  }

  async setMetaOnce(key: string, value: string, tx?: Tx): Promise<boolean> {
    const result = await dbOf(this.store, tx)
      .insertInto("meta")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }
}
