import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { byName, sandbox, type Sandbox } from "./helpers.js";

const SPEC = `project: default
pipelines:
  p:
    params: { greeting: hello, n: 3 }
    steps:
      make:
        run: |
          echo \${{ params.greeting }} > "$TANDEM_OUTPUT_OUT/greeting.txt"
          echo made
        outputs:
          out: dir
      count:
        run: |
          cat \${{ inputs.g }}/greeting.txt
          echo '{"n": '\${{ params.n }}'}' > metrics.json
          wc -c < \${{ inputs.g }}/greeting.txt | tr -d ' ' > "$TANDEM_OUTPUT_LEN"
        inputs:
          g: \${{ steps.make.outputs.out }}
        outputs:
          len: file
        metrics: metrics.json
      final:
        run: cat \${{ steps.count.outputs.len }}
`;

for (const kind of STORE_KINDS) {
  const suite = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  suite(`pipeline engine (embedded, local executor) [${kind}]`, () => {
    let box: Sandbox;
    let cleanup: () => Promise<void> | void = () => undefined;
    beforeAll(async () => {
      const db = await freshDatabase(kind);
      cleanup = db.cleanup;
      const url = db.database.kind === "postgres" ? db.database.url : `sqlite:${db.database.file}`;
      box = await sandbox({ TANDEM_DATABASE_URL: url });
      await box.apply(SPEC);
    });
    afterAll(async () => {
      await box?.close();
      await cleanup();
    });

    it("says a pipeline named like an Object.prototype member does not exist (was a 500)", async () => {
      for (const name of ["toString", "constructor"])
        await expect(box.run(name)).rejects.toThrow(`has no pipeline ${name} (pipelines: p)`);
    });

    it("runs a DAG, passes outputs on, collects metrics, then serves everything from cache", async () => {
      const first = await box.run("p");
      expect(first.status, JSON.stringify(first.steps.map((s) => [s.name, s.status, s.error]))).toBe("succeeded");
      const s = byName(first);
      expect(s.count!.metrics).toEqual({ n: 3 });
      expect(Object.keys(s.count!.outputs)).toEqual(["len"]);
      expect(first.steps.every((x) => !x.cached)).toBe(true);
      expect(existsSync(join(box.workspace, "tandem.lock"))).toBe(true);
      const lock = readFileSync(join(box.workspace, "tandem.lock"), "utf8");
      expect(lock).toContain("count:");

      // The pipeline run is a parent tracking run; each step run is its child, with its metrics.
      expect(first.trackingRunId).toBeTruthy();
      const tracking = box.opened.services.tracking;
      const children = await tracking.childRuns("default", first.trackingRunId!);
      expect(children.map((c) => c.runName).sort()).toEqual(["count", "final", "make"]);
      const countRun = await tracking.getRun("default", s.count!.trackingRunId!);
      expect(countRun.metrics.map((m) => [m.key, m.value])).toEqual([["n", 3]]);
      expect(countRun.tags["tandem.cache_hit"]).toBe("false");
      expect(countRun.info.status).toBe("FINISHED");

      const logs = await box.opened.services.pipelines.logs("default", first.id, { step: "final" });
      expect(logs.chunks.map((c) => c.text)).toContain("6");

      const second = await box.run("p");
      expect(second.status).toBe("succeeded");
      expect(second.steps.map((x) => [x.name, x.cached])).toEqual([
        ["make", true],
        ["count", true],
        ["final", true],
      ]);
      expect(readFileSync(join(box.workspace, "tandem.lock"), "utf8")).toBe(lock);

      const third = await box.run("p", { params: { n: 4 } });
      expect(third.steps.map((x) => [x.name, x.cached])).toEqual([
        ["make", true],
        ["count", false],
        ["final", true],
      ]);
      const fourth = await box.run("p", { params: { greeting: "hi" } });
      expect(fourth.steps.map((x) => [x.name, x.cached])).toEqual([
        ["make", false],
        ["count", false],
        ["final", false],
      ]);
    });
  });
}
