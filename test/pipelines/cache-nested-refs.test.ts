/**
 * A reference inside a built-in step's argument is keyed like one in `with:` itself (issue 15's kind,
 * one level down): `tandem/validate`'s `drift: { against: rows@golden }`, inline or in the
 * expectations file, names a dataset version that moves. Before, the key held the text (`rows@golden`
 * inline, the file's bytes otherwise), so moving `golden` onto drifted data still served the last
 * "passed". Now the reference is resolved, keyed (`with.expect → drift.against`), and the step
 * validates against exactly the version it was keyed on. SQLite and Postgres.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { byName, sandbox, type Sandbox } from "./helpers.js";

const SPEC = `project: default
pipelines:
  inline:
    steps:
      validate:
        uses: tandem/validate
        with:
          dataset: rows@2
          expect:
            drift:
              against: rows@golden
              threshold: 0.2
  file:
    steps:
      validate:
        uses: tandem/validate
        with:
          dataset: rows@2
          expect: expect.yaml
`;

function rowsCsv(shift: number): string {
  const lines = ["x,y"];
  for (let i = 0; i < 200; i++) lines.push(`${(i % 20) + shift},${i % 2}`);
  return `${lines.join("\n")}\n`;
}

for (const kind of STORE_KINDS) {
  const suite = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  suite(`references inside a built-in step's arguments are keyed [${kind}]`, () => {
    let box: Sandbox;
    let cleanup: () => Promise<void> | void = () => undefined;
    let added = 0;
    const addRows = async (shift: number) => {
      const data = box.opened.services.data;
      const blob = await data.putBlob(Readable.from([Buffer.from(rowsCsv(shift))]));
      await data.createVersion("admin", "default", "rows", {
        kind: "file",
        entries: [{ path: `rows-${++added}.csv`, sha256: blob.sha256, size: blob.size }],
      });
    };
    beforeAll(async () => {
      const db = await freshDatabase(kind);
      cleanup = db.cleanup;
      const url = db.database.kind === "postgres" ? db.database.url : `sqlite:${db.database.file}`;
      box = await sandbox({ TANDEM_DATABASE_URL: url });
      box.write("expect.yaml", "drift:\n  against: rows@golden\n  threshold: 0.2\n");
      await box.apply(SPEC);
      await addRows(0); // rows@1
      await addRows(0); // rows@2: what is validated, the same as rows@1
      await addRows(100); // rows@3: drifted far from it
      await box.opened.services.data.tag("admin", "default", "rows@1", "golden");
    });
    afterAll(async () => {
      await box?.close();
      await cleanup();
    });

    // Inline, the reference is a field of with:; in the file, one the file's content makes.
    const part: Record<string, string> = { inline: "with.expect.drift.against", file: "with.expect → drift.against" };
    for (const pipeline of ["inline", "file"])
      it(`reruns validation when the version drift is tested against moves (${pipeline})`, async () => {
        await box.opened.services.data.tag("admin", "default", "rows@1", "golden");
        const first = await box.run(pipeline);
        expect(first.status, JSON.stringify(first.steps.map((s) => s.error))).toBe("succeeded");
        expect(byName(await box.run(pipeline)).validate!.cached).toBe(true);
        await box.opened.services.data.tag("admin", "default", "rows@3", "golden");
        const moved = await box.run(pipeline);
        const step = byName(moved).validate!;
        expect(step.cached).toBe(false);
        expect(moved.status).toBe("failed");
        expect(step.error).toMatch(/rows@2 failed validation/);
        const why = await box.opened.services.pipelines.explainCache("default", moved.id, "validate");
        expect(why.parts.filter((p) => p.change !== "same").map((p) => [p.name, p.before?.value, p.value])).toEqual([
          [part[pipeline], "rows@golden → rows@1", "rows@golden → rows@3"],
        ]);
        // It tested drift against the version it was keyed on.
        const reports = await box.opened.services.data.listValidations("default", "rows", 2);
        const latest = reports.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
        expect(JSON.stringify(latest)).toContain("rows@3");
      });
  });
}
