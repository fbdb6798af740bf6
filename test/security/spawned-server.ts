/**
 * A real `tandem server` process (bin/tandem.js, as an operator starts it) in a fresh home, on SQLite
 * or a fresh Postgres database, with `env` on top of this process's environment (TANDEM_* dropped).
 * For attacks whose target is the server's own process: its environment, its files, its children.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jsonApi, type TestServer } from "../helpers/server.js";
import { freshDatabase, type StoreKind } from "../helpers/stores.js";
import { startCli } from "../pipelines/cli.js";

export interface SpawnedServer extends Pick<TestServer, "api" | "url" | "home" | "adminToken"> {
  /** The server's TANDEM_DATABASE_URL on Postgres, else null. */
  databaseUrl: string | null;
  pid: number;
  /** What it printed so far, stdout then stderr. */
  output(): string;
  stop(): Promise<void>;
}

export async function spawnServer(store: StoreKind, env: Record<string, string> = {}): Promise<SpawnedServer> {
  const root = mkdtempSync(join(tmpdir(), "tandem-spawned-"));
  const home = join(root, ".tandem");
  const db = store === "postgres" ? await freshDatabase("postgres") : null;
  const databaseUrl = db?.database.kind === "postgres" ? db.database.url : null;
  const server = startCli(["server", "--port", "0"], {
    cwd: root,
    env: {
      TANDEM_HOME: home,
      TANDEM_LOG_LEVEL: "error",
      ...(databaseUrl ? { TANDEM_DATABASE_URL: databaseUrl } : {}),
      ...env,
    },
  });
  const cleanup = async () => {
    rmSync(root, { recursive: true, force: true });
    await db?.cleanup();
  };
  const until = Date.now() + 60_000;
  let url: string | undefined;
  while (
    !(url = /listening on (http:\S+)/.exec(server.output().stdout)?.[1]) &&
    server.child.exitCode === null &&
    Date.now() < until
  )
    await new Promise((r) => setTimeout(r, 100));
  if (!url) {
    server.child.kill("SIGKILL");
    await server.done;
    await cleanup();
    throw new Error(`the server did not start: ${JSON.stringify(server.output())}`);
  }
  const adminToken = readFileSync(join(home, "admin.token"), "utf8").trim();
  return {
    url,
    home,
    adminToken,
    databaseUrl,
    pid: server.child.pid!,
    output: () => `${server.output().stdout}${server.output().stderr}`,
    api: jsonApi(url, adminToken),
    async stop() {
      server.child.kill("SIGTERM");
      await server.done;
      await cleanup();
    },
  };
}

/** A user `name` with `role` in `project`, and a token of theirs. */
export async function memberToken(
  t: Pick<TestServer, "api">,
  project: string,
  name: string,
  role = "member",
): Promise<string> {
  const made = await t.api("POST", "/api/v1/users", { name });
  if (made.status !== 201) throw new Error(`user ${name}: ${made.status} ${JSON.stringify(made.body)}`);
  const member = await t.api("PUT", `/api/v1/projects/${project}/members/${name}`, { role });
  if (member.status !== 200) throw new Error(`member ${name}: ${member.status} ${JSON.stringify(member.body)}`);
  const token = await t.api<{ token: string }>("POST", "/api/v1/tokens", { name: "t", user: name });
  if (token.status !== 201) throw new Error(`token ${name}: ${token.status} ${JSON.stringify(token.body)}`);
  return token.body.token;
}
