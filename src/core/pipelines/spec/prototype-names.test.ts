/**
 * Every name Object.prototype already has, used as a key throughout one tandem.yaml (params, env,
 * steps, inputs, outputs, datasets, a monitor's per-column options): the loaded spec and the monitor
 * definition made from it hold each as an own key with its value, and nothing reaches
 * Object.prototype. `__proto__` is refused at each place instead (no map could hold it).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { monitorDefinition } from "../../monitoring/monitors/definition.js";
import { checkSpec } from "./load.js";
import { formatIssue } from "./positions.js";
import { IDENT_PATTERN, NAME_PATTERN } from "./names.js";

const NAMES = Object.getOwnPropertyNames(Object.prototype).filter((n) => n !== "__proto__");
const own = (o: unknown, key: string): unknown =>
  o && typeof o === "object" && Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : "(not own)";

function spec(name: string, n: number): string {
  // Step and dataset names start with a letter: `__defineGetter__` and kin go where identifiers go.
  const step = NAME_PATTERN.test(name) ? name : "s";
  return `project: p
datasets:
  ${step}: { path: data/${n}.csv }
pipelines:
  p:
    params: { ${name}: ${n} }
    steps:
      ${step}:
        env: { ${name}: v${n} }
        inputs: { ${name}: data/${n}.csv }
        run: echo \${{ params.${name} }} \${{ inputs.${name} }}
      out:
        outputs: { ${name}: dir }
        run: echo
monitors:
  m:
    dataset: d
    checks:
      - data_drift: { columns: { ${name}: { threshold: 0.${n}, test: psi } } }
`;
}

describe("tandem.yaml keys named like Object.prototype's members", () => {
  it("are own keys with their values, in the spec and in the monitor definition", () => {
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), fc.integer({ min: 1, max: 999 }), (name, n) => {
        expect(IDENT_PATTERN.test(name)).toBe(true);
        const { spec: loaded, issues } = checkSpec(spec(name, n), "tandem.yaml");
        expect(issues.map(formatIssue)).toEqual([]);
        const p = loaded!.pipelines!.p!;
        const step = own(p.steps, NAME_PATTERN.test(name) ? name : "s") as Record<string, unknown>;
        expect(own(p.params, name)).toBe(n);
        expect(own(step.env, name)).toBe(`v${n}`);
        expect(own(step.inputs, name)).toBe(`data/${n}.csv`);
        expect(own((own(p.steps, "out") as Record<string, unknown>).outputs, name)).toBe("dir");
        expect(own(own(loaded!.datasets, NAME_PATTERN.test(name) ? name : "s"), "path")).toBe(`data/${n}.csv`);
        const def = monitorDefinition("p", "m", own(loaded!.monitors, "m"));
        const drift = def.checks[0]!;
        expect(drift.kind).toBe("data_drift");
        expect(own(drift.kind === "data_drift" ? drift.perColumn : null, name)).toEqual({
          test: "psi",
          threshold: Number(`0.${n}`),
        });
        for (const key of ["threshold", "test", "path", "v"]) expect(key in Object.prototype).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it("__proto__ is refused at each place, naming it", () => {
    const issues = checkSpec(spec("__proto__", 7), "tandem.yaml").issues.map((i) => `${i.field}: ${i.message}`);
    for (const place of [
      "pipelines.p.params.__proto__",
      "pipelines.p.steps.s.env.__proto__",
      "pipelines.p.steps.s.inputs.__proto__",
      "pipelines.p.steps.out.outputs.__proto__",
      "monitors.m.checks[0].data_drift.columns.__proto__",
    ])
      expect(issues).toContainEqual(
        expect.stringMatching(new RegExp(`^${place.replace(/[.[\]]/g, "\\$&")}: .*reserved`)),
      );
  });
});
