/**
 * Runs once per `vitest run`: migrates a SQLite template file and, when a PostgreSQL server is
 * reachable, a template database. Each test file then gets a fresh copy (see stores.ts), as
 * graphile-worker's tests do. Without Postgres outside CI the Postgres suites are skipped, loudly;
 * in CI (CI=true) a missing Postgres fails the run.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";

/**
 * Each `vitest run` has its own template and database prefix, so runs side by side (several
 * developers or CI jobs on one server) never drop each other's databases.
 */
const RUN_ID = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
export const PG_TEMPLATE = `tandem_tpl_${RUN_ID}`;
export const PG_PREFIX = `tandem_t_${RUN_ID}_`;
const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres";

declare module "vitest" {
  export interface ProvidedContext {
    sqliteTemplate: string;
    /** Admin URL of the Postgres server (a maintenance database), or "" when none is reachable. */
    postgresAdminUrl: string;
    pgTemplate: string;
    pgPrefix: string;
  }
}

async function preparePostgres(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${PG_TEMPLATE}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${PG_TEMPLATE}`;
  const store = await SqlMetadataStore.create({ database: { kind: "postgres", url: url.toString() }, poolSize: 1 });
  await store.close();
}

/** Drops this run's template and any per-file database a test left behind. */
async function dropRunDatabases(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const rows = await admin.query<{ datname: string }>(
      "select datname from pg_database where starts_with(datname, $1) or datname = $2",
      [PG_PREFIX, PG_TEMPLATE],
    );
    for (const row of rows.rows) await admin.query(`drop database if exists "${row.datname}" with (force)`);
  } finally {
    await admin.end();
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  // Tests spawn bin/tandem.js, which runs dist/: rebuild it when the sources changed since, so
  // they test the code in src/ (a no-op in CI, where `npm run build` ran first).
  execFileSync(process.execPath, [join(import.meta.dirname, "../../scripts/build-dist.mjs"), "--if-stale"], {
    stdio: "inherit",
  });
  const dir = mkdtempSync(join(tmpdir(), "tandem-test-template-"));
  const sqliteTemplate = join(dir, "template.db");
  const store = await SqlMetadataStore.create({ database: { kind: "sqlite", file: sqliteTemplate } });
  // Closing the last connection checkpoints the WAL into the file, so a plain copy is complete.
  await store.close();
  project.provide("sqliteTemplate", sqliteTemplate);

  const pgUrl = process.env.TANDEM_TEST_DATABASE_URL || DEFAULT_PG_URL;
  let postgresAdminUrl = "";
  if (await reachable(pgUrl)) {
    await preparePostgres(pgUrl);
    postgresAdminUrl = pgUrl;
  } else if (process.env.CI === "true" || process.env.TANDEM_TEST_DATABASE_URL) {
    throw new Error(`PostgreSQL is not reachable at ${pgUrl}: the Postgres store suites cannot be skipped in CI`);
  } else {
    console.warn(
      `\n${"!".repeat(78)}\n!! PostgreSQL is not reachable at ${pgUrl}\n!! The Postgres store suites are SKIPPED. Set TANDEM_TEST_DATABASE_URL to run them.\n${"!".repeat(78)}\n`,
    );
  }
  project.provide("postgresAdminUrl", postgresAdminUrl);
  project.provide("pgTemplate", PG_TEMPLATE);
  project.provide("pgPrefix", PG_PREFIX);
  return async () => {
    rmSync(dir, { recursive: true, force: true });
    if (postgresAdminUrl) await dropRunDatabases(postgresAdminUrl).catch(() => undefined);
  };
}
