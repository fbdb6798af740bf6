/**
 * Migration 0430 on a store the previous release made, on SQLite and Postgres: a version number
 * that only a decision, an approval or an alias's history still mentions (its version was deleted)
 * is never given to the next registration.
 */
import { expect, inject, it } from "vitest";
import type { Kysely } from "kysely";
import { migrateToLatest } from "../../src/stores/metadata/migrator.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";
import { SqlRegistryStore } from "../../src/stores/metadata/registry-store.js";
import { emptyDatabase } from "../helpers/stores.js";

const at = 1_700_000_000_000;

for (const kind of ["sqlite", "postgres"] as const) {
  it.skipIf(kind === "postgres" && !inject("postgresAdminUrl"))(
    `numbers still mentioned by the gate's records stay used [${kind}]`,
    async () => {
      const { database, drop } = await emptyDatabase(kind);
      const store = await SqlMetadataStore.create({ database, migrate: false });
      try {
        const db = store.db as unknown as Kysely<unknown>;
        await migrateToLatest(db, store.dialect, (name) => name !== "0430_registry_version_numbers");
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the old schema
        const old = store.db as unknown as Kysely<any>;
        for (const name of ["m", "n", "k"])
          await old
            .insertInto("registry_models")
            .values({ project: "p", name, description: "", owner: "a", tags: "{}", created_at: at, updated_at: at })
            .execute();
        // m: only an approval is left of version 5 (the version was deleted).
        await old
          .insertInto("registry_approvals")
          .values({
            id: "a1",
            project: "p",
            model_name: "m",
            version: 5,
            user_name: "dana",
            role: "approver",
            decision: "approve",
            comment: "",
            at,
          })
          .execute();
        // n: version 7 held champion once, nothing else is left of it.
        await old
          .insertInto("registry_alias_events")
          .values({
            project: "p",
            model_name: "n",
            alias: "champion",
            action: "delete",
            from_version: 7,
            to_version: null,
            actor: "a",
            at,
            decision_id: null,
          })
          .execute();
        await migrateToLatest(db, store.dialect);

        const registry = new SqlRegistryStore(store);
        const next = (name: string) => store.transaction((tx) => registry.nextVersionNumber("p", name, tx));
        expect([await next("m"), await next("n"), await next("k")]).toEqual([6, 8, 1]);
      } finally {
        await store.close();
        await drop();
      }
    },
  );
}
