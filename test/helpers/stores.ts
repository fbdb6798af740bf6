/**
 * Fresh metadata stores for tests, on SQLite and on PostgreSQL, each a copy of a migrated template.
 *
 *   describeStores("tracking store", (getStore) => { it("…", async () => { const store = getStore(); }) });
 *
 * runs the same suite on both; the Postgres one is skipped (loudly, by global-setup) only outside CI.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, inject } from "vitest";
import type { DatabaseConfig } from "../../src/config.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";

export type StoreKind = "sqlite" | "postgres";

/** A new SQLite file copied from the migrated template. */
export function freshSqliteDatabase(): { database: DatabaseConfig; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tandem-test-db-"));
  const file = join(dir, "tandem.db");
  copyFileSync(inject("sqliteTemplate"), file);
  return { database: { kind: "sqlite", file }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A new Postgres database created from the migrated template; dropped by `cleanup`. */
export async function freshPostgresDatabase(): Promise<{ database: DatabaseConfig; cleanup: () => Promise<void> }> {
  const adminUrl = inject("postgresAdminUrl");
  if (!adminUrl) throw new Error("PostgreSQL is not available");
  const name = `${inject("pgPrefix")}${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}" template "${inject("pgTemplate")}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    database: { kind: "postgres", url: url.toString() },
    cleanup: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

export async function freshDatabase(
  kind: StoreKind,
): Promise<{ database: DatabaseConfig; cleanup: () => Promise<void> | void }> {
  return kind === "sqlite" ? freshSqliteDatabase() : freshPostgresDatabase();
}

/**
 * A database no migration has touched (a file in a new directory, or a new Postgres database), for
 * tests that build a store as an earlier release left it and then upgrade it.
 */
export async function emptyDatabase(
  kind: "sqlite" | "postgres",
): Promise<{ database: DatabaseConfig; drop(): Promise<void> }> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "tandem-upgrade-"));
    return {
      database: { kind: "sqlite", file: join(dir, "tandem.db") },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const adminUrl = inject("postgresAdminUrl");
  const name = `tandem_t_upgrade_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    database: { kind: "postgres", url: url.toString() },
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

export function postgresAvailable(): boolean {
  return inject("postgresAdminUrl") !== "";
}

export const STORE_KINDS: StoreKind[] = ["sqlite", "postgres"];

/** Runs `suite` once per store kind with a fresh database per kind (per describe block). */
export function describeStores(
  name: string,
  suite: (getStore: () => SqlMetadataStore, kind: StoreKind, getDatabase: () => DatabaseConfig) => void,
): void {
  for (const kind of STORE_KINDS) {
    const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
    run(`${name} [${kind}]`, () => {
      let store: SqlMetadataStore;
      let database: DatabaseConfig;
      let cleanup: () => Promise<void> | void = () => undefined;
      beforeAll(async () => {
        const fresh = await freshDatabase(kind);
        database = fresh.database;
        cleanup = fresh.cleanup;
        store = await SqlMetadataStore.create({ database: fresh.database, migrate: false });
      });
      afterAll(async () => {
        await store?.close();
        await cleanup();
      });
      suite(
        () => store,
        kind,
        () => database,
      );
    });
  }
}
