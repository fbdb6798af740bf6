/**
 * The Backstage catalog over a real server, on SQLite and Postgres: every entity passes
 * @backstage/catalog-model's validators with its relations resolved, the YAML form is the same
 * entities, and a viewer of one project sees nothing of another (the attack: names, refs, links).
 */
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entity } from "@backstage/catalog-model";
import { expectValidBackstage } from "../helpers/backstage.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { STORE_KINDS, postgresAvailable } from "../helpers/stores.js";

const spec = (project: string, dataset: string) => `project: ${project}
pipelines:
  nightly:
    description: Trains on ${dataset} every night.
    triggers:
      - schedule: "0 3 * * *"
    steps:
      check:
        uses: tandem/validate
        with:
          dataset: ${dataset}@latest
          expect: { rows: { min: 1 } }
      count:
        needs: [check]
        run: |
          wc -l ${"${{ inputs.table }}"}
        inputs:
          table: dataset://${dataset}@latest
`;

interface Catalog {
  items: Entity[];
}

for (const kind of STORE_KINDS) {
  const suite = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  suite(`GET /api/v1/catalog/backstage [${kind}]`, () => {
    let t: TestServer;
    const tokens: Record<string, string> = {};

    async function addDataset(project: string, name: string) {
      const csv = Buffer.from("a,b\n1,2\n3,4\n");
      const res = await fetch(`${t.url}/api/v1/projects/${project}/datasets/${name}/blobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/octet-stream" },
        body: csv,
      });
      const blob = (await res.json()) as { sha256: string };
      const added = await t.api("POST", `/api/v1/projects/${project}/datasets/${name}/versions`, {
        kind: "file",
        entries: [{ path: `${name}.csv`, sha256: blob.sha256, size: csv.length }],
      });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
    }

    beforeAll(async () => {
      t = await startTestServer({ store: kind });
      for (const [project, dataset] of [
        ["apples", "apple-rows"],
        ["bananas", "banana-secret-rows"],
      ] as const) {
        const applied = await t.api("POST", `/api/v1/projects/${project}/specs`, {
          source: spec(project, dataset),
          file: "tandem.yaml",
        });
        expect(applied.status, JSON.stringify(applied.body)).toBe(201);
        await addDataset(project, dataset);
      }
      for (const [user, project] of [
        ["ann", "apples"],
        ["ben", "bananas"],
      ] as const) {
        expect((await t.api("POST", "/api/v1/users", { name: user })).status).toBe(201);
        expect((await t.api("PUT", `/api/v1/projects/${project}/members/${user}`, { role: "viewer" })).status).toBe(
          200,
        );
        tokens[user] = (await t.api<{ token: string }>("POST", "/api/v1/tokens", { name: "t", user })).body.token;
      }
    });
    afterAll(async () => {
      await t?.stop();
    });

    it("emits entities that catalog-model validates, relations pointing at entities that exist", async () => {
      const res = await t.api<Catalog>("GET", "/api/v1/catalog/backstage");
      expect(res.status).toBe(200);
      await expectValidBackstage(res.body.items);
      const byRef = new Map(res.body.items.map((e) => [`${e.kind}:${e.metadata.namespace}/${e.metadata.name}`, e]));
      const system = byRef.get("System:apples/apples")!;
      expect(system.spec).toEqual({ owner: "group:apples/team" });
      const pipeline = byRef.get("Component:apples/pipeline-nightly")!;
      expect(pipeline.spec).toMatchObject({
        type: "ml-pipeline",
        system: "system:apples/apples",
        dependsOn: ["resource:apples/dataset-apple-rows"],
      });
      expect(pipeline.metadata.annotations).toMatchObject({
        "tandem.dev/project": "apples",
        "tandem.dev/pipeline": "nightly",
        "tandem.dev/triggers": "schedule",
      });
      const dataset = byRef.get("Resource:apples/dataset-apple-rows")!;
      expect(dataset.spec).toMatchObject({ type: "dataset", owner: "user:default/admin" });
      expect(dataset.metadata.annotations).toMatchObject({ "tandem.dev/dataset-version": "1" });
      expect(dataset.metadata.links?.[0]?.url).toBe(`${t.url}/p/apples/datasets/apple-rows`);
    });

    it("gives the same entities as a multi-document catalog-info.yaml", async () => {
      const json = await t.api<Catalog>("GET", "/api/v1/catalog/backstage");
      const res = await fetch(`${t.url}/api/v1/catalog/backstage?format=yaml&ui_url=https://tandem.example.com`, {
        headers: { authorization: `Bearer ${t.adminToken}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/yaml/);
      const docs = parseAllDocuments(await res.text()).map((d) => d.toJSON() as Entity);
      expect(docs.map((d) => d.metadata.name)).toEqual(json.body.items.map((e) => e.metadata.name));
      expect(JSON.stringify(docs)).toContain("https://tandem.example.com/p/apples/datasets/apple-rows");
    });

    it("shows a viewer only the projects it may view (the attack: nothing of the other project leaks)", async () => {
      const ann = await t.api<Catalog>("GET", "/api/v1/catalog/backstage", undefined, tokens.ann);
      expect(ann.status).toBe(200);
      await expectValidBackstage(ann.body.items);
      expect(new Set(ann.body.items.filter((e) => e.kind !== "User").map((e) => e.metadata.namespace))).toEqual(
        new Set(["apples"]),
      );
      const text = JSON.stringify(ann.body);
      expect(text).not.toContain("banana");
      expect(text).not.toContain("ben");
      const ben = await t.api<Catalog>("GET", "/api/v1/catalog/backstage?format=json", undefined, tokens.ben);
      expect(JSON.stringify(ben.body)).not.toContain("apple");
      // A token capped to one project sees that one, even for an admin.
      const capped = (
        await t.api<{ token: string }>("POST", "/api/v1/tokens", { name: "capped", user: "admin", project: "bananas" })
      ).body.token;
      const only = await t.api<Catalog>("GET", "/api/v1/catalog/backstage", undefined, capped);
      expect(new Set(only.body.items.filter((e) => e.kind !== "User").map((e) => e.metadata.namespace))).toEqual(
        new Set(["bananas"]),
      );
      expect((await t.api("GET", "/api/v1/catalog/backstage", undefined, null)).status).toBe(401);
      expect((await t.api("GET", "/api/v1/catalog/backstage", undefined, "not-a-token")).status).toBe(401);
    });

    it("refuses a bad format or link base with a clear 400, not a 500", async () => {
      const bad = await t.api<{ error: { message: string } }>("GET", "/api/v1/catalog/backstage?format=xml");
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/format/);
      const js = await t.api("GET", "/api/v1/catalog/backstage?ui_url=javascript:alert(1)");
      expect(js.status).toBe(400);
    });
  });
}
