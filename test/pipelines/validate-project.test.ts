/**
 * `tandem validate` against the project folder and the stores: a `with:` file that is missing or
 * leaves the project is an error; a script path no input or `cache: { files }` covers (in a step that
 * names its files: one that does not is keyed on the whole project folder), a dataset
 * or model that does not exist yet (unless an earlier step writes it) and an image tag without a
 * digest are warnings with file:line.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandbox, type Sandbox } from "./helpers.js";

const SPEC = `project: default
pipelines:
  p:
    steps:
      covered:
        run: |
          python3 tools/fit.py --config conf/a.yaml
          cat README.md
        inputs:
          code: tools
        cache:
          files: ["conf/*.yaml"]
      uncovered:
        run: |
          ./scripts/build.sh && node lib/util.js "$TANDEM_OUTPUT_X" missing/thing.js
        outputs:
          x: dir
        cache:
          files: [conf/a.yaml]
      export:
        uses: tandem/export-traffic
        with:
          endpoint: ghost-endpoint
          since: 7d
          dataset: fresh
      check:
        needs: [export]
        uses: tandem/validate
        with:
          dataset: fresh@latest
          expect: expect.yaml
      check-other:
        uses: tandem/validate
        with:
          dataset: nowhere@latest
          expect: expect.yaml
      boxed:
        run: echo hi
        image: python:3.12
      pinned:
        run: echo hi
        image: python@sha256:${"a".repeat(64)}
      whole:
        run: ./scripts/build.sh
`;

describe("tandem validate against the project folder", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
    box.write("tools/fit.py", "print(1)\n");
    box.write("conf/a.yaml", "a: 1\n");
    box.write("README.md", "# hi\n");
    box.write("scripts/build.sh", "true\n");
    box.write("lib/util.js", "\n");
    box.write("expect.yaml", "rows: { min: 1 }\n");
  });
  afterAll(async () => box?.close());
  const check = (source: string) =>
    box.opened.services.pipelines.specs.check("default", { source, workspace: box.workspace });
  const text = (i: { line: number; column: number; field: string; message: string }) =>
    `${i.line}:${i.column}: ${i.field}: ${i.message}`;

  it("warns about uncovered script paths, missing references and image tags; errors on a missing with: file", async () => {
    const res = await check(SPEC);
    expect(res.issues).toEqual([]);
    expect(res.warnings.map(text)).toEqual([
      "8:15: pipelines.p.steps.covered.run: steps.covered.run reads README.md, which neither its inputs: nor its cache: { files } cover: editing it will not rerun the step (add it to one of them)",
      "15:11: pipelines.p.steps.uncovered.run: steps.uncovered.run reads scripts/build.sh, which neither its inputs: nor its cache: { files } cover: editing it will not rerun the step (add it to one of them)",
      "15:38: pipelines.p.steps.uncovered.run: steps.uncovered.run reads lib/util.js, which neither its inputs: nor its cache: { files } cover: editing it will not rerun the step (add it to one of them)",
      '23:21: pipelines.p.steps.export.with.endpoint: endpoint ghost-endpoint does not exist yet (endpoint "ghost-endpoint" not found in project "default"): the step will fail unless it exists when it starts',
      "35:20: pipelines.p.steps.check-other.with.dataset: dataset nowhere@latest does not exist yet (no dataset nowhere in project default): the step will fail unless it exists when it starts",
      "39:16: pipelines.p.steps.boxed.image: image python:3.12 is a tag, not a digest: pin it (name@sha256:…) so the environment cannot change under the same cache key",
    ]);
    const missing = await check(SPEC.replace("expect: expect.yaml", "expect: expectations/none.yaml"));
    expect(missing.issues.map(text)).toEqual([
      "31:19: pipelines.p.steps.check.with.expect: expectations/none.yaml does not exist in the project folder",
    ]);
  });

  it("refuses a with: path or a cache glob outside the project, on validate and on apply", async () => {
    const outside = SPEC.replace("expect: expect.yaml", "expect: ../../etc/passwd").replace(
      'files: ["conf/*.yaml"]',
      'files: ["/etc/*"]',
    );
    const res = await check(outside);
    expect(res.issues.map(text)).toEqual([
      '12:19: pipelines.p.steps.covered.cache.files[0]: glob "/etc/*" must stay inside the project folder',
      '31:19: pipelines.p.steps.check.with.expect: path "../../etc/passwd" must stay inside the project folder',
    ]);
    await expect(box.apply(outside)).rejects.toThrow(/tandem\.yaml:31:19: .*must stay inside the project folder/);
  });
});
