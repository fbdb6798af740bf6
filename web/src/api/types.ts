/** Wire shapes of the foundation's API (src/server/routes/access.ts, audit.ts, session.ts). */
export type Role = "viewer" | "member" | "approver" | "admin";
export const ROLES: Role[] = ["viewer", "member", "approver", "admin"];

export function roleAtLeast(role: Role | null, required: Role): boolean {
  return role !== null && ROLES.indexOf(role) >= ROLES.indexOf(required);
}

export interface SessionInfo {
  signed_in: boolean;
  user: string | null;
  is_admin: boolean;
  token_role: Role | null;
  token_project: string | null;
}

export interface ProjectWire {
  name: string;
  description: string;
  created_at: number;
  created_by: string;
}

export interface MemberWire {
  project: string;
  user: string;
  role: Role;
}

export interface TokenWire {
  id: string;
  user: string;
  name: string;
  role: Role | null;
  project: string | null;
  expires_at: number | null;
  created_at: number;
  revoked_at: number | null;
}

export interface UserWire {
  name: string;
  display_name: string;
  is_admin: boolean;
  created_at: number;
}

export interface AuditEventWire {
  seq: number;
  id: string;
  at: number;
  actor: string;
  project: string | null;
  action: string;
  target: string;
  summary: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}
