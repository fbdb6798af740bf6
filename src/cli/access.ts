import type { Command } from "commander";
import { isRole, ROLES } from "../core/governance/model.js";
import { GOVERNANCE_READ_API } from "./api-scopes.js";
import { openApi, projectPath, resolveProject, UsageError } from "./context.js";
import type { TandemApi } from "./api.js";
import { formatTime, info, printJson, printTable } from "./output.js";

interface UserWire {
  name: string;
  display_name: string;
  is_admin: boolean;
  created_at: number;
}
interface TokenWire {
  id: string;
  user: string;
  name: string;
  role: string | null;
  project: string | null;
  expires_at: number | null;
  created_at: number;
  revoked_at: number | null;
  token?: string;
}

function parseRole(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isRole(value))
    throw new UsageError(`${flag}: expected one of ${ROLES.join(", ")}, got ${JSON.stringify(value)}`);
  return value;
}

/** "30d", "12h", "90m" or an ISO date → ms since the epoch. */
export function parseExpiry(value: string): number {
  const relative = /^(\d+)([dhm])$/.exec(value);
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as "d" | "h" | "m"];
    return Date.now() + Number(relative[1]) * unit;
  }
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw new UsageError(`--expires: expected 30d, 12h, 90m or an ISO date, got ${JSON.stringify(value)}`);
  return at;
}

export function registerAccessCommands(program: Command): void {
  const users = program.command("users").description("Manage users (site administrators).");
  users
    .command("add <name>")
    .description("Add a user; with --role and --project, also make them a member of that project.")
    .option("--display-name <text>", "full name")
    .option("--admin", "make the user a site administrator")
    .option("--role <role>", `role in --project (${ROLES.join(", ")})`)
    .option("--project <project>", "project for --role (default: the current project)")
    .option("--json", "machine output")
    .action(
      async (
        name: string,
        opts: { displayName?: string; admin?: boolean; role?: string; project?: string; json?: boolean },
      ) => {
        const role = parseRole(opts.role, "--role");
        const api = await openApi();
        const user = await api.post<UserWire>("/api/v1/users", {
          name,
          display_name: opts.displayName,
          is_admin: opts.admin ?? false,
        });
        let membership: unknown = null;
        if (role) {
          const project = resolveProject(opts.project);
          membership = await api.put(projectPath(project, `/members/${encodeURIComponent(name)}`), { role });
        }
        if (opts.json) printJson({ ...user, membership });
        else process.stdout.write(`added user ${user.name}${role ? ` as ${role}` : ""}\n`);
      },
    );
  users
    .command("ls")
    .description("List users.")
    .option("--json", "machine output")
    .action(async (opts: { json?: boolean }) => {
      const api = await openApi(GOVERNANCE_READ_API);
      const { users: list } = await api.get<{ users: UserWire[] }>("/api/v1/users");
      if (opts.json) printJson(list);
      else
        printTable(
          list.map((u) => ({ ...u, created_at: formatTime(u.created_at) })),
          ["name", "display_name", "is_admin", "created_at"],
        );
    });

  const identities = users
    .command("identities")
    .description(
      "Git identities (github:<login>, gitlab:<username>) mapped to users: a push by one is that user's work (site administrators).",
    );
  identities
    .command("add <user> <identity>")
    .description(
      "Map a git identity to a user; versions their pushes register are then theirs, and they cannot approve them.",
    )
    .action(async (user: string, identity: string) => {
      const api = await openApi();
      await api.put(`/api/v1/users/${encodeURIComponent(user)}/identities/${encodeURIComponent(identity)}`);
      process.stdout.write(`${identity} is ${user}\n`);
    });
  identities
    .command("rm <user> <identity>")
    .description("Unmap a git identity (its pushes are then nobody's).")
    .action(async (user: string, identity: string) => {
      const api = await openApi();
      await api.delete(`/api/v1/users/${encodeURIComponent(user)}/identities/${encodeURIComponent(identity)}`);
      process.stdout.write(`${identity} is no longer mapped\n`);
    });
  identities
    .command("ls <user>")
    .description("A user's git identities.")
    .option("--json", "machine output")
    .action(async (user: string, opts: { json?: boolean }) => {
      const api = await openApi(GOVERNANCE_READ_API);
      const r = await api.get<{ identities: string[] }>(`/api/v1/users/${encodeURIComponent(user)}/identities`);
      if (opts.json) printJson(r.identities);
      else process.stdout.write(r.identities.length ? `${r.identities.join("\n")}\n` : "(none)\n");
    });

  const members = program.command("members").description("Manage a project's members and their roles.");
  members
    .command("set <user> <role>")
    .description(`Give a user a role in the project (${ROLES.join(" < ")}).`)
    .option("--project <project>", "project (default: the current project)")
    .action(async (user: string, role: string) => {
      parseRole(role, "role");
      const api = await openApi();
      const project = resolveProject(members.opts<{ project?: string }>().project);
      await api.put(projectPath(project, `/members/${encodeURIComponent(user)}`), { role });
      process.stdout.write(`${user} is ${role} in ${project}\n`);
    });
  members
    .command("ls")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; json?: boolean }) => {
      const api = await openApi(GOVERNANCE_READ_API);
      const res = await api.get<{ members: Array<Record<string, unknown>> }>(
        projectPath(resolveProject(opts.project), "/members"),
      );
      if (opts.json) printJson(res.members);
      else printTable(res.members, ["user", "role"]);
    });

  const tokens = program
    .command("tokens")
    .description("Manage API tokens. A token is shown once; the server keeps only its hash.");
  tokens
    .command("create")
    .description("Create a token and print it alone on stdout (or as JSON with --json).")
    .option("--name <name>", "what the token is for (default: ROLE@PROJECT from the caps, e.g. viewer@flights)")
    .option("--user <user>", "owner (site administrators only; default: you)")
    .option("--role <role>", "cap: the token never acts above this role")
    .option("--project <project>", "restrict the token to one project")
    .option("--expires <when>", "expiry: 30d, 12h, 90m or an ISO date (default: never)")
    .option("--json", "machine output")
    .action(
      async (opts: {
        name?: string;
        user?: string;
        role?: string;
        project?: string;
        expires?: string;
        json?: boolean;
      }) => {
        const role = parseRole(opts.role, "--role");
        const api = await openApi();
        const made = await api.post<TokenWire>("/api/v1/tokens", {
          name: opts.name ?? defaultTokenName(role ?? null, opts.project ?? null),
          user: opts.user,
          role: role ?? null,
          project: opts.project ?? null,
          expires_at: opts.expires ? parseExpiry(opts.expires) : null,
        });
        if (opts.project) await warnUnlessProjectExists(api, opts.project);
        if (opts.json) printJson(made);
        else process.stdout.write(`${made.token}\n`);
      },
    );
  tokens
    .command("ls")
    .description("List tokens (yours; site administrators see all, or --user's).")
    .option("--user <user>", "whose tokens")
    .option("--json", "machine output")
    .action(async (opts: { user?: string; json?: boolean }) => {
      const api = await openApi(GOVERNANCE_READ_API);
      const { tokens: list } = await api.get<{ tokens: TokenWire[] }>("/api/v1/tokens", { user: opts.user });
      if (opts.json) printJson(list);
      else
        printTable(
          list.map((t) => ({
            ...t,
            created_at: formatTime(t.created_at),
            expires_at: formatTime(t.expires_at),
            revoked: t.revoked_at !== null,
          })),
          ["id", "user", "name", "role", "project", "created_at", "expires_at", "revoked"],
        );
    });
  tokens
    .command("revoke <id>")
    .description("Revoke a token by its id.")
    .action(async (id: string) => {
      const api = await openApi();
      await api.delete(`/api/v1/tokens/${encodeURIComponent(id)}`);
      process.stdout.write(`revoked ${id}\n`);
    });
}

/** `viewer@flights`, `viewer`, `all@flights`, `all`: what the caps say, for a token made without --name. */
function defaultTokenName(role: string | null, project: string | null): string {
  return `${role ?? "all"}${project ? `@${project}` : ""}`;
}

/**
 * A token for a project that does not exist yet is made (a project comes into being when something
 * is first written to it, so a CI token may come first), but a typo would give a token that can do
 * nothing: say so on stderr, with the projects there are.
 */
async function warnUnlessProjectExists(api: TandemApi, project: string): Promise<void> {
  const { projects } = await api.get<{ projects: Array<{ name: string }> }>("/api/v1/projects");
  if (projects.some((p) => p.name === project)) return;
  info(
    `warning: project ${project} does not exist (yet), or you have no role in it: the token can act only once it does ` +
      `(projects you see: ${projects.map((p) => p.name).join(", ") || "none"})`,
  );
}
