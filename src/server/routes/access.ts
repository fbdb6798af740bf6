import { z } from "zod";
import { ROLES } from "../../core/governance/model.js";
import type { ApiToken, Membership, Project, User } from "../../core/governance/model.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

const roleSchema = z.enum(ROLES);
const userWire = z.object({
  name: z.string(),
  display_name: z.string(),
  is_admin: z.boolean(),
  created_at: z.number(),
});
const tokenWire = z.object({
  id: z.string(),
  user: z.string(),
  name: z.string(),
  role: roleSchema.nullable(),
  project: z.string().nullable(),
  expires_at: z.number().nullable(),
  created_at: z.number(),
  revoked_at: z.number().nullable(),
});
const memberWire = z.object({ project: z.string(), user: z.string(), role: roleSchema });
const projectWire = z.object({
  name: z.string(),
  description: z.string(),
  created_at: z.number(),
  created_by: z.string(),
});

export const userToWire = (u: User) => ({
  name: u.name,
  display_name: u.displayName,
  is_admin: u.isAdmin,
  created_at: u.createdAt,
});
export const tokenToWire = (t: ApiToken) => ({
  id: t.id,
  user: t.userName,
  name: t.name,
  role: t.role,
  project: t.project,
  expires_at: t.expiresAt,
  created_at: t.createdAt,
  revoked_at: t.revokedAt,
});
const memberToWire = (m: Membership) => ({ project: m.project, user: m.userName, role: m.role });
const projectToWire = (p: Project) => ({
  name: p.name,
  description: p.description,
  created_at: p.createdAt,
  created_by: p.createdBy,
});

const projectParams = z.object({ project: z.string() });

export const accessRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/whoami",
    summary: "The caller: user, site-admin flag, and the token's caps.",
    tags: ["access"],
    auth: "bearer",
    role: "authenticated",
    response: z.object({
      user: z.string(),
      is_admin: z.boolean(),
      token_role: roleSchema.nullable(),
      token_project: z.string().nullable(),
    }),
    handler: async ({ principal }) => ({
      user: principal.userName,
      is_admin: principal.isAdmin,
      token_role: principal.tokenRole,
      token_project: principal.tokenProject,
    }),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/users",
    summary: "List users.",
    tags: ["access"],
    auth: "bearer",
    role: "site-admin",
    response: z.object({ users: z.array(userWire) }),
    handler: async ({ services }) => ({ users: (await services.access.listUsers()).map(userToWire) }),
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/users",
    summary: "Add a user.",
    tags: ["access"],
    auth: "bearer",
    role: "site-admin",
    status: 201,
    body: z.object({ name: z.string(), display_name: z.string().optional(), is_admin: z.boolean().optional() }),
    response: userWire,
    handler: async ({ services, principal, body }) =>
      userToWire(
        await services.access.addUser(principal.userName, {
          name: body.name,
          displayName: body.display_name,
          isAdmin: body.is_admin,
        }),
      ),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/users/:user/identities",
    summary: "A user's git identities (`github:<login>`, `gitlab:<username>`): pushes by them are that user's.",
    tags: ["access"],
    auth: "bearer",
    role: "site-admin",
    params: z.object({ user: z.string() }),
    response: z.object({ user: z.string(), identities: z.array(z.string()) }),
    handler: async ({ services, params }) => ({
      user: params.user,
      identities: await services.access.identitiesOf(params.user),
    }),
  }),
  defineRoute({
    method: "PUT",
    url: "/api/v1/users/:user/identities/:identity",
    summary:
      "Map a git identity to a user (site admins): the person behind a push it makes, who may then not approve what the push registers.",
    tags: ["access"],
    auth: "bearer",
    role: "site-admin",
    params: z.object({ user: z.string(), identity: z.string() }),
    response: z.object({ user: z.string(), identity: z.string() }),
    handler: async ({ services, principal, params }) => {
      await services.access.mapIdentity(principal, params.identity, params.user);
      return { user: params.user, identity: params.identity };
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/users/:user/identities/:identity",
    summary: "Unmap a git identity (its pushes are then nobody's).",
    tags: ["access"],
    auth: "bearer",
    role: "site-admin",
    params: z.object({ user: z.string(), identity: z.string() }),
    response: z.object({ removed: z.literal(true) }),
    handler: async ({ services, principal, params }) => {
      await services.access.unmapIdentity(principal, params.identity);
      return { removed: true as const };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/tokens",
    summary: "List tokens (your own; a site admin sees all, or one user's with ?user=).",
    tags: ["access"],
    auth: "bearer",
    role: "authenticated",
    query: z.object({ user: z.string().optional() }),
    response: z.object({ tokens: z.array(tokenWire) }),
    handler: async ({ services, principal, query }) => ({
      tokens: (await services.access.listTokens(principal, query.user)).map(tokenToWire),
    }),
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/tokens",
    summary: "Create a token. The token is in this answer only; the server keeps its hash.",
    tags: ["access"],
    auth: "bearer",
    role: "authenticated",
    status: 201,
    body: z.object({
      name: z.string().min(1),
      user: z.string().optional(),
      role: roleSchema.nullable().optional(),
      project: z.string().nullable().optional(),
      expires_at: z.number().int().nullable().optional(),
    }),
    response: tokenWire.extend({ token: z.string() }),
    handler: async ({ services, principal, body }) => {
      const made = await services.access.createToken(principal, {
        userName: body.user ?? principal.userName,
        name: body.name,
        role: body.role ?? null,
        project: body.project ?? null,
        expiresAt: body.expires_at ?? null,
      });
      return { ...tokenToWire(made.record), token: made.token };
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/tokens/:id",
    summary: "Revoke a token.",
    tags: ["access"],
    auth: "bearer",
    role: "authenticated",
    params: z.object({ id: z.string() }),
    response: z.object({ revoked: z.literal(true) }),
    handler: async ({ services, principal, params }) => {
      await services.access.revokeToken(principal, params.id);
      return { revoked: true as const };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects",
    summary: "List projects.",
    tags: ["access"],
    auth: "bearer",
    role: "authenticated",
    response: z.object({ projects: z.array(projectWire) }),
    handler: async ({ services, principal }) => {
      const all = await services.access.listProjects();
      const visible = [];
      for (const p of all) if ((await services.access.roleIn(principal, p.name)) !== null) visible.push(p);
      return { projects: visible.map(projectToWire) };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/members",
    summary: "List a project's members and roles.",
    tags: ["access"],
    auth: "bearer",
    role: "viewer",
    params: projectParams,
    response: z.object({ members: z.array(memberWire), your_role: roleSchema.nullable() }),
    handler: async ({ services, project, role }) => ({
      members: (await services.access.listMembers(project)).map(memberToWire),
      your_role: role,
    }),
  }),
  defineRoute({
    method: "PUT",
    url: "/api/v1/projects/:project/members/:user",
    summary: "Give a user a role in a project.",
    tags: ["access"],
    auth: "bearer",
    role: "admin",
    params: z.object({ project: z.string(), user: z.string() }),
    body: z.object({ role: roleSchema }),
    response: memberWire,
    handler: async ({ services, principal, project, params, body }) => {
      await services.access.setMember(principal.userName, { project, userName: params.user, role: body.role });
      return { project, user: params.user, role: body.role };
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/projects/:project/members/:user",
    summary: "Remove a user from a project.",
    tags: ["access"],
    auth: "bearer",
    role: "admin",
    params: z.object({ project: z.string(), user: z.string() }),
    response: z.object({ removed: z.literal(true) }),
    handler: async ({ services, principal, project, params }) => {
      await services.access.removeMember(principal.userName, project, params.user);
      return { removed: true as const };
    },
  }),
];
