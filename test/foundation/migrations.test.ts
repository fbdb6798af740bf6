/**
 * Migrations are safe when several processes open an empty database at once: each migration is
 * applied exactly once and every process ends up with the same schema.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
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
      const adminUrl = inject("postgresAdminUrl");
      const name = `tandem_t_mig_${randomBytes(4).toString("hex")}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database "${name}"`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      try {
        const codes = await Promise.all([
          openInChild(url.toString()),
          openInChild(url.toString()),
          openInChild(url.toString()),
        ]);
        expect(codes).toEqual([0, 0, 0]);
        const names = await migrationNames({ kind: "postgres", url: url.toString() });
        expect(names.length).toBeGreaterThan(0);
        expect(new Set(names).size).toBe(names.length);
      } finally {
        await admin.query(`drop database if exists "${name}" with (force)`);
        await admin.end();
      }
    },
  );
});
