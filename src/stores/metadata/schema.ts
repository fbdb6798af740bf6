/**
 * Row types of the metadata database. Rows stay in `stores/`: the domain sees camelCase models,
 * made by the `to…(row)` mappers next to each area's store.
 *
 * Conventions (both dialects): ids are text; timestamps are milliseconds since the epoch in `bigint`
 * columns (parsed to numbers on Postgres); booleans are integers 0/1; JSON is text.
 *
 * Each area adds its own tables by declaration merging, in its own file, so that areas do not edit
 * one shared list:
 *   declare module "./schema.js" { interface Database { runs: RunRow } }
 */
import type { Generated } from "kysely";

export interface ProjectRow {
  name: string;
  description: string;
  created_at: number;
  created_by: string;
}

export interface UserRow {
  name: string;
  display_name: string;
  is_admin: number;
  created_at: number;
}

export interface MemberRow {
  project: string;
  user_name: string;
  role: string;
  created_at: number;
}

export interface TokenRow {
  id: string;
  user_name: string;
  name: string;
  token_hash: string;
  /** The highest role this token may act with (null: the user's own roles). */
  role: string | null;
  /** The one project this token may act in (null: every project of its user). */
  project: string | null;
  expires_at: number | null;
  created_at: number;
  revoked_at: number | null;
  /** 0002: the pipeline run a run token belongs to (null: a person's token). */
  run_id: string | null;
  /** 0003: `tracking` limits the token to tracking routes (null: whatever its role allows). */
  scope: string | null;
  /** 0005: a run token is never renewed past this (ms; null: its run has no bound, or a person's token). */
  renewable_until: number | null;
}

/** 0002: a git identity (`github:octocat`) mapped to a user by a site admin. */
export interface UserIdentityRow {
  identity: string;
  user_name: string;
  created_at: number;
  created_by: string;
}

export interface AuditEventRow {
  /** Generated on insert. */
  seq: Generated<number>;
  id: string;
  at: number;
  actor: string;
  project: string | null;
  action: string;
  target: string;
  summary: string;
  prev_hash: string;
  hash: string;
  /** 0004, Postgres: the body to hash while the event waits for its commit to chain it (null once chained). */
  chain_body: string | null;
}

export interface MetaRow {
  key: string;
  value: string;
}

export interface Database {
  projects: ProjectRow;
  users: UserRow;
  project_members: MemberRow;
  api_tokens: TokenRow;
  audit_events: AuditEventRow;
  user_identities: UserIdentityRow;
  /** Small server-wide key/value facts (e.g. whether the first admin token was written). */
  meta: MetaRow;
}
