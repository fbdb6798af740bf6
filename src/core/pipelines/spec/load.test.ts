import { describe, expect, it } from "vitest";
import { checkSpec, loadSpec, SpecError } from "./load.js";
import { formatIssue } from "./positions.js";

const errorsOf = (src: string) => checkSpec(src, "tandem.yaml", { builtins: ["register"] }).issues.map(formatIssue);

const GOOD = `project: flights
datasets:
  flights: { path: data/flights.csv }
pipelines:
  train:
    params: { threshold_minutes: 15, learning_rate: 0.1 }
    triggers:
      - schedule: "0 3 * * *"
      - data: flights
      - alert: flights-drift
      - git: { branch: main }
    concurrency: skip
    steps:
      prepare:
        run: |
          node steps/prepare.js --in \${{ inputs.raw }} --out "$TANDEM_OUTPUT_TABLE"
        inputs:
          raw: dataset://flights@latest
        outputs:
          table: dir
      train:
        needs: [prepare]
        run: |
          node steps/train.js --table \${{ inputs.table }} --lr \${{ params.learning_rate }}
        inputs:
          table: \${{ steps.prepare.outputs.table }}
        outputs:
          model: dir
        metrics: metrics.json
        retries: 2
        timeout: 30m
        resources: { cpu: "1", memory: 2Gi }
        matrix:
          learning_rate: [0.01, 0.1]
      register:
        needs: [train]
        uses: tandem/register
        if: \${{ steps.train.best('roc_auc').metrics.roc_auc >= 0.7 }}
        with:
          model: flights-delay
          artifact: \${{ steps.train.best('roc_auc').outputs.model }}
          alias: challenger
          policy: release
policies:
  release:
    require:
      - metric: roc_auc >= 0.70
      - fairness: { attribute: origin, metric: equal_opportunity_difference, max: 0.10 }
      - beats: champion
      - approvals: { role: approver, count: 1, for_alias: champion }
endpoints:
  flights-delay: { model: flights-delay@champion, canary: { alias: challenger, percent: 10 } }
monitors:
  flights-drift:
    endpoint: flights-delay
    schedule: "*/15 * * * *"
    reference: dataset://flights@latest
    checks: [data_drift, prediction_drift, performance, fairness]
`;

describe("tandem.yaml spec", () => {
  it("accepts the DESIGN.md example", () => {
    expect(errorsOf(GOOD)).toEqual([]);
    const { spec } = loadSpec(GOOD);
    expect(Object.keys(spec.pipelines!.train!.steps)).toEqual(["prepare", "train", "register"]);
  });

  it("names file:line:column and field for an unknown key", () => {
    const src = GOOD.replace("        retries: 2\n", "        retries: 2\n        retires: 3\n");
    expect(errorsOf(src)).toEqual(['tandem.yaml:31:9: pipelines.train.steps.train.retires: unknown key "retires"']);
  });

  it("reports a bad type where it is", () => {
    const src = GOOD.replace("retries: 2", "retries: lots");
    expect(errorsOf(src)).toEqual([
      expect.stringMatching(/^tandem\.yaml:30:18: pipelines\.train\.steps\.train\.retries: .*expected number/),
    ]);
  });

  it("reports a needs: naming no step", () => {
    const src = GOOD.replace("needs: [prepare]", "needs: [prep]");
    expect(errorsOf(src)).toEqual([
      'tandem.yaml:22:17: pipelines.train.steps.train.needs[0]: needs "prep", which names no step (steps: prepare, train, register)',
    ]);
  });

  // Names that pass the name rule but are Object.prototype's: the spec's maps must not find them.
  it("refuses references to Object.prototype's names as to any undeclared name", () => {
    for (const name of ["toString", "constructor", "valueOf", "hasOwnProperty"]) {
      expect(errorsOf(GOOD.replace("needs: [prepare]", `needs: [${name}]`))).toEqual([
        `tandem.yaml:22:17: pipelines.train.steps.train.needs[0]: needs "${name}", which names no step (steps: prepare, train, register)`,
      ]);
      const expression = GOOD.replace("${{ params.learning_rate }}", `\${{ steps.${name}.outputs.x }}`);
      expect(errorsOf(expression)[0]).toMatch(new RegExp(`refers to nothing: no step "${name}"`));
      const output = GOOD.replace(
        "table: ${{ steps.prepare.outputs.table }}",
        `table: \${{ steps.prepare.outputs.${name} }}`,
      );
      expect(errorsOf(output)[0]).toMatch(/refers to nothing: step "prepare" declares outputs: table/);
    }
    // …and a step may itself be called toString: then it is an ordinary own key.
    const own = loadSpec(GOOD.replaceAll("prepare", "toString")).spec;
    expect(Object.keys(own.pipelines!.train!.steps)).toEqual(["toString", "train", "register"]);
    expect(own.pipelines!.train!.steps.valueOf).toBeUndefined();
    expect(own.pipelines!.constructor).toBeUndefined();
  });

  it("names the steps of a cycle", () => {
    const src = `pipelines:
  p:
    steps:
      a:
        needs: [c]
        run: echo a
      b:
        needs: [a]
        run: echo b
      c:
        run: echo \${{ steps.b.outputs.x }}
        needs: [b]
`.replace("run: echo b", "run: echo b\n        outputs: { x: file }");
    expect(errorsOf(src)).toEqual(["tandem.yaml:4:7: pipelines.p.steps.a: dependency cycle: a -> c -> b -> a"]);
  });

  it("points at an expression that refers to nothing, inside a run: block", () => {
    const src = GOOD.replace("--lr ${{ params.learning_rate }}", "--lr ${{ params.learning_rat }}");
    expect(errorsOf(src)).toEqual([
      "tandem.yaml:24:64: pipelines.train.steps.train.run: ${{ params.learning_rat }} refers to nothing: params declared here: threshold_minutes, learning_rate",
    ]);
  });

  it("rejects outputs of a missing step and missing outputs", () => {
    const src = GOOD.replace("table: ${{ steps.prepare.outputs.table }}", "table: ${{ steps.prepare.outputs.tabel }}");
    expect(errorsOf(src)).toEqual([
      'tandem.yaml:26:18: pipelines.train.steps.train.inputs.table: ${{ steps.prepare.outputs.tabel }} refers to nothing: step "prepare" declares outputs: table',
    ]);
    const src2 = GOOD.replace("table: ${{ steps.prepare.outputs.table }}", "table: ${{ steps.prep.outputs.table }}");
    expect(errorsOf(src2)[0]).toMatch(/refers to nothing: no step "prep"/);
  });

  it("requires best() to read a matrix step's outputs", () => {
    const src = GOOD.replace(
      "artifact: ${{ steps.train.best('roc_auc').outputs.model }}",
      "artifact: ${{ steps.train.outputs.model }}",
    );
    expect(errorsOf(src)).toEqual([
      expect.stringMatching(
        /^tandem\.yaml:41:21: pipelines\.train\.steps\.register\.with\.artifact: .*fans out over a matrix; pick one run with steps\.train\.best/,
      ),
    ]);
  });

  it("reports duplicate outputs: a repeated YAML key and names that collide as env vars", () => {
    const dup = GOOD.replace("          model: dir\n", "          model: dir\n          model: file\n");
    expect(errorsOf(dup)).toEqual([expect.stringMatching(/^tandem\.yaml:29:11: \(yaml\): duplicate key: model/)]);
    const clash = GOOD.replace("          model: dir\n", "          model: dir\n          MODEL: file\n");
    expect(errorsOf(clash)).toEqual([
      'tandem.yaml:29:11: pipelines.train.steps.train.outputs.MODEL: duplicate output: "MODEL" and "model" both map to $TANDEM_OUTPUT_MODEL',
    ]);
  });

  it("reports expression syntax errors and unknown built-ins, cron and time zones", () => {
    const src = `pipelines:
  p:
    triggers:
      - schedule: "not a cron"
      - schedule: "0 3 * * *"
        timezone: Mars/Olympus
    steps:
      a:
        run: echo \${{ params.x + }}
      b:
        uses: tandem/nope
`;
    const errs = errorsOf(src);
    expect(errs).toContainEqual(
      expect.stringMatching(/^tandem\.yaml:4:19: pipelines\.p\.triggers\[0\]\.schedule: not a valid cron/),
    );
    expect(errs).toContainEqual(
      expect.stringMatching(
        /^tandem\.yaml:6:19: pipelines\.p\.triggers\[1\]\.timezone: unknown time zone "Mars\/Olympus"/,
      ),
    );
    expect(errs).toContainEqual(
      expect.stringMatching(/^tandem\.yaml:9:\d+: pipelines\.p\.steps\.a\.run: bad expression/),
    );
    expect(errs).toContainEqual(
      'tandem.yaml:11:15: pipelines.p.steps.b.uses: unknown built-in step "tandem/nope" (known: tandem/register)',
    );
  });

  it("requires exactly one of run/uses and one trigger kind", () => {
    const src = `pipelines:
  p:
    triggers:
      - { data: a, alert: b }
    steps:
      a: { description: nothing }
`;
    const errs = errorsOf(src);
    expect(errs).toContainEqual(
      expect.stringMatching(/^tandem\.yaml:4:9: pipelines\.p\.triggers\[0\]: a trigger has exactly one of/),
    );
    expect(errs).toContainEqual("tandem.yaml:6:10: pipelines.p.steps.a: a step has exactly one of run: or uses:");
  });

  it("throws a SpecError carrying every issue", () => {
    expect(() => loadSpec("pipelines:\n  p:\n    steps: {}\n    bogus: 1\n")).toThrow(SpecError);
    try {
      loadSpec("pipelines: [1, 2]\n", "x/tandem.yaml");
    } catch (error) {
      expect((error as SpecError).issues[0]).toMatchObject({
        file: "x/tandem.yaml",
        line: 1,
        column: 12,
        field: "pipelines",
      });
    }
  });

  it("reports YAML syntax errors with their position", () => {
    expect(errorsOf("pipelines:\n  p: [\n")[0]).toMatch(/^tandem\.yaml:\d+:\d+: \(yaml\): /);
  });

  it("names an alias without its anchor at its place (toJS threw, which users met as an internal error)", () => {
    const spec = "project: p\npipelines:\n  a:\n    steps:\n      s:\n        run: *nope\n";
    expect(errorsOf(spec)).toEqual([
      "tandem.yaml:6:14: (yaml): unresolved alias *nope: the anchor &nope must be set before the alias",
    ]);
  });

  it("refuses aliases that expand a billion times, at the first alias, without building the value", () => {
    const lines = ["project: p", 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i <= 8; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(",")}]`,
      );
    lines.push("pipelines:", "  a:", "    steps:", "      s:", "        run: echo");
    const [error, ...rest] = errorsOf(lines.join("\n"));
    expect(rest).toEqual([]);
    expect(error).toMatch(/^tandem\.yaml:3:10: \(yaml\): aliases expand too far/);
  });
});
