/**
 * Runs once per `vitest run`: migrates a SQLite template file and, when a PostgreSQL server is
 * reachable, a template database. Each test file then gets a fresh copy (see stores.ts), as
 * graphile-worker's tests do. Without Postgres outside CI the Postgres suites are skipped, loudly;
 * in CI (CI=true) a missing Postgres fails the run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";

export const PG_TEMPLATE = "tandem_test_template";
const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres";

declare module "vitest" {
  export interface ProvidedContext {
    sqliteTemplate: string;
    /** Admin URL of the Postgres server (a maintenance database), or "" when none is reachable. */
    postgresAdminUrl: string;
  }
}

async function preparePostgres(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Old per-file databases from runs that were killed, and the old template.
    const stale = await admin.query<{ datname: string }>(
      "select datname from pg_database where datname like 'tandem_t_%' or datname = $1",
      [PG_TEMPLATE],
    );
    for (const row of stale.rows) await admin.query(`drop database if exists "${row.datname}" with (force)`);
    await admin.query(`create database "${PG_TEMPLATE}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${PG_TEMPLATE}`;
  const store = await SqlMetadataStore.create({ database: { kind: "postgres", url: url.toString() }, poolSize: 1 });
  await store.close();
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
  return () => rmSync(dir, { recursive: true, force: true });
}
