/**
 * Finds `migrations/NNNN_*.ts` and applies the pending ones in name order. Kysely's Migrator takes a
 * lock (a row lock on Postgres, the write lock on SQLite), so two processes starting at once apply
 * each migration exactly once.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { columnTypes, type SqlDialectName, type TandemMigration } from "./migration-kit.js";

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "migrations");
const MIGRATION_FILE = /^(\d{4}_[a-z0-9_]+)\.(ts|js)$/;

/** The names of this version's migrations (file names without extension), as FolderMigrationProvider finds them. */
function migrationNames(): string[] {
  return readdirSync(MIGRATIONS_DIR).flatMap((file) => {
    const match = MIGRATION_FILE.exec(file);
    return match && !file.endsWith(".d.ts") && !file.includes(".test.") ? [match[1]!] : [];
  });
}

/**
 * Whether the store has applied exactly this version's migrations, read without a lock: Kysely's
 * Migrator imports every migration module and takes the write lock (SQLite) or a row lock (Postgres)
 * even when nothing is pending, about 35 modules and a write transaction on every CLI command (issue
 * 18). Migrations are forward-only, so a store that has them all stays so; anything else (no table
 * yet, a pending migration, one this version does not know) goes to the Migrator, which applies or
 * refuses as before.
 */
async function upToDate(db: Kysely<unknown>): Promise<boolean> {
  let applied: string[];
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    applied = rows.map((r) => r.name);
  } catch {
    return false;
  }
  const known = migrationNames();
  const appliedSet = new Set(applied);
  return applied.length === known.length && known.every((name) => appliedSet.has(name));
}

class FolderMigrationProvider implements MigrationProvider {
  constructor(
    private readonly dialect: SqlDialectName,
    private readonly only: (name: string) => boolean = () => true,
  ) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    const types = columnTypes(this.dialect);
    for (const file of readdirSync(MIGRATIONS_DIR).sort()) {
      const match = MIGRATION_FILE.exec(file);
      if (!match || file.endsWith(".d.ts") || file.includes(".test.") || !this.only(match[1]!)) continue;
      const module = (await import(pathToFileURL(join(MIGRATIONS_DIR, file)).href)) as {
        migration?: TandemMigration;
      };
      if (!module.migration) throw new Error(`migration ${file} exports no \`migration\``);
      const migration = module.migration;
      migrations[match[1]!] = { up: (db) => migration.up(db, this.dialect, types) };
    }
    return migrations;
  }
}

/**
 * Applies every pending migration (`only`: just those whose name passes — tests use it to build a
 * store as an earlier release left it, then upgrade it).
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: SqlDialectName,
  only?: (name: string) => boolean,
): Promise<void> {
  if (!only && (await upToDate(db))) return;
  // Areas number their migrations in their own ranges (0100 pipelines … 0700 portal), so an area's
  // newer migration can sort before one another area added earlier: apply it rather than refuse.
  const migrator = new Migrator({
    db,
    provider: new FolderMigrationProvider(dialect, only),
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed?.migrationName ?? ""} failed: ${reason}`, { cause: error });
  }
}

/**
 * Which of this version's migrations the store has not applied yet, without applying any (what
 * `tandem doctor` reports; the next `tandem server` applies them).
 */
export async function pendingMigrations(db: Kysely<unknown>, dialect: SqlDialectName): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new FolderMigrationProvider(dialect), allowUnorderedMigrations: true });
  return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}
