/**
 * Migrations are safe when several processes open an empty database at once: each migration is
 * applied exactly once and every process ends up with the same schema. A store that is up to date
 * opens without the migrator's lock (every CLI command opens the store), and one that a newer
 * release migrated is still refused.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";

const OPEN_SCRIPT = `
import { SqlMetadataStore } from "./src/stores/metadata/sql-metadata-store.ts";
const url = process.argv[1];
const database = url.startsWith("postgres") ? { kind: "postgres", url } : { kind: "sqlite", file: url };
const store = await SqlMetadataStore.create({ database });
await store.close();
`;

function openInChild(url: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", OPEN_SCRIPT, url], {
      cwd: process.cwd(),
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

async function migrationNames(database: { kind: "sqlite"; file: string } | { kind: "postgres"; url: string }) {
  const store = await SqlMetadataStore.create({ database, migrate: false });
  const rows = await store.db
    .selectFrom("kysely_migration" as never)
    .select("name" as never)
    .execute();
  await store.close();
  return (rows as Array<{ name: string }>).map((r) => r.name);
}

describe("migrations", () => {
  it("apply once when three processes open an empty SQLite file at once", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tandem-mig-")), "tandem.db");
    const codes = await Promise.all([openInChild(file), openInChild(file), openInChild(file)]);
    expect(codes).toEqual([0, 0, 0]);
    const names = await migrationNames({ kind: "sqlite", file });
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
  });

  it.skipIf(!inject("postgresAdminUrl"))(
    "apply once when three processes open an empty Postgres database at once",
    async () => {
      await withEmptyPostgres(async (url) => {
        const codes = await Promise.all([
          openInChild(url.toString()),
          openInChild(url.toString()),
          openInChild(url.toString()),
        ]);
        expect(codes).toEqual([0, 0, 0]);
        const names = await migrationNames({ kind: "postgres", url: url.toString() });
        expect(names.length).toBeGreaterThan(0);
        expect(new Set(names).size).toBe(names.length);
      });
    },
  );

  it("an up-to-date SQLite store opens while another process holds the write lock", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tandem-mig-")), "tandem.db");
    await (await SqlMetadataStore.create({ database: { kind: "sqlite", file } })).close();
    const other = new BetterSqlite3(file);
    other.exec("begin immediate");
    try {
      // The migrator would wait for the write lock and give up after the busy timeout.
      const store = await SqlMetadataStore.create({ database: { kind: "sqlite", file }, busyTimeoutMs: 200 });
      const projects = await store.db.selectFrom("projects").select("name").execute();
      expect(Array.isArray(projects)).toBe(true);
      await store.close();
    } finally {
      other.exec("rollback");
      other.close();
    }
  });

  it("a SQLite store that a newer release migrated is refused, as the migrator refuses it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tandem-mig-")), "tandem.db");
    await (await SqlMetadataStore.create({ database: { kind: "sqlite", file } })).close();
    const other = new BetterSqlite3(file);
    other.prepare("insert into kysely_migration (name, timestamp) values (?, ?)").run("9999_newer_release", "x");
    other.close();
    await expect(SqlMetadataStore.create({ database: { kind: "sqlite", file } })).rejects.toThrow(/9999_newer_release/);
  });

  it.skipIf(!inject("postgresAdminUrl"))(
    "a Postgres store that a newer release migrated is refused, as the migrator refuses it",
    async () => {
      await withEmptyPostgres(async (url) => {
        const database = { kind: "postgres" as const, url: url.toString() };
        await (await SqlMetadataStore.create({ database })).close();
        const client = new pg.Client({ connectionString: url.toString() });
        await client.connect();
        await client.query("insert into kysely_migration (name, timestamp) values ($1, $2)", [
          "9999_newer_release",
          "x",
        ]);
        await client.end();
        await expect(SqlMetadataStore.create({ database })).rejects.toThrow(/9999_newer_release/);
      });
    },
  );
});

/** Runs `use` on a new, empty Postgres database (not the template's), dropped afterwards. */
async function withEmptyPostgres(use: (url: URL) => Promise<void>): Promise<void> {
  const adminUrl = inject("postgresAdminUrl");
  const name = `tandem_t_mig_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    await use(url);
  } finally {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}
