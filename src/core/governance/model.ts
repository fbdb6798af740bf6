/**
 * Glossary (DESIGN.md "Access and audit"):
 * - Project: the unit of ownership and access; its name is the spec's `project:`.
 * - User: a person or the platform itself (`system`). A site admin is admin of every project.
 * - Role: per project, `viewer < member < approver < admin`.
 * - Token: belongs to a user; shown once, stored as a sha256 hash; may be capped to a role and a project.
 * - Principal: who a request acts as, once its token is checked.
 * - Audit event: an append-only record of a state change whose hash covers the previous event's hash.
 */
export const ROLES = ["viewer", "member", "approver", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const SYSTEM_USER = "system";
export const DEFAULT_PROJECT = "default";

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function roleAtLeast(role: Role | null, required: Role): boolean {
  return role !== null && roleRank(role) >= roleRank(required);
}

export function lowerRole(a: Role, b: Role): Role {
  return roleRank(a) <= roleRank(b) ? a : b;
}

export interface Project {
  name: string;
  description: string;
  createdAt: number;
  createdBy: string;
}

export interface User {
  name: string;
  displayName: string;
  isAdmin: boolean;
  createdAt: number;
}

export interface Membership {
  project: string;
  userName: string;
  role: Role;
}

export interface ApiToken {
  id: string;
  userName: string;
  name: string;
  role: Role | null;
  project: string | null;
  expiresAt: number | null;
  createdAt: number;
  revokedAt: number | null;
  /** The pipeline run this token was made for (null: a person's own token). */
  runId?: string | null;
  /** `tracking`: only tracking routes (runs, metrics, artifacts), whatever its role (null: no limit). */
  scope?: TokenScope | null;
  /** A run token: never renewed or revived past this, its run's time bound (null: no bound). */
  renewableUntil?: number | null;
}

/** A kind of work a token may be limited to (a pipeline run's token, when a policy says so). */
export type TokenScope = "tracking";

export interface Principal {
  userName: string;
  isAdmin: boolean;
  tokenId: string | null;
  /** Cap from the token: the principal never acts above it. */
  tokenRole: Role | null;
  tokenProject: string | null;
  /**
   * Set for a pipeline run's token: the run it belongs to. What the principal does is attributed to
   * the person behind that run (as author; excluded from approving it), never to `system` alone.
   */
  runId?: string | null;
  /** From the token: `tracking` limits it to tracking routes (see server/token-scope.ts). */
  tokenScope?: TokenScope | null;
}

export interface AuditEventInput {
  actor: string;
  project: string | null;
  /** Verb in dotted form, e.g. `token.create`, `model.alias.set`. */
  action: string;
  /** What changed, e.g. `model:flights-delay@3`. */
  target: string;
  /** A small before/after summary; never a secret. */
  summary?: Record<string, unknown>;
}

export interface AuditEvent extends Required<AuditEventInput> {
  seq: number;
  id: string;
  at: number;
  prevHash: string;
  hash: string;
}
