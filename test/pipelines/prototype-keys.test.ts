/**
 * Names that every plain object already has (`__proto__`, `constructor`, `toString`) where
 * tandem.yaml names something the step then looks up: a secret, a trainer's param. Each must be the
 * user's own or refused naming it, never Object.prototype's member and never silently dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byName, sandbox, type Sandbox } from "./helpers.js";

const NAMES = ["__proto__", "constructor", "toString"];

describe("tandem.yaml names that are Object.prototype's", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
  });
  afterAll(async () => box?.close());

  it("a step gets secrets named constructor and toString; __proto__ is refused naming it", async () => {
    for (const name of NAMES.slice(1)) await box.opened.services.secrets.set("admin", "default", name, `v-${name}`);
    await expect(box.opened.services.secrets.set("admin", "default", "__proto__", "v")).rejects.toThrow(
      /secret name "__proto__".*reserved/,
    );
    await box.apply(`pipelines:
  p:
    steps:
      a:
        secrets: [constructor, toString]
        run: |
          [ "$constructor" = v-constructor ] && [ "$toString" = v-toString ] && echo both
`);
    const run = await box.run("p");
    expect(run.status, byName(run).a!.error ?? "").toBe("succeeded");
    const { chunks } = await box.opened.services.pipelines.logs("default", run.id, { step: "a" });
    expect(chunks.filter((c) => c.stream !== "system").map((c) => c.text.trim())).toEqual(["both"]);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
    // Before, the step ran without it (the map dropped the key) and without a word.
    await expect(
      box.apply(`pipelines:
  p:
    steps:
      a:
        secrets: [__proto__]
        run: echo
`),
    ).rejects.toThrow(
      /^tandem\.yaml:5:19: pipelines\.p\.steps\.a\.secrets\[0\]: the secret name "__proto__" is reserved/,
    );
  });

  it("tandem/train refuses a param named constructor or toString as unknown", async () => {
    box.write("data.csv", ["x,y", ...Array.from({ length: 40 }, (_, i) => `${i},${i % 2}`)].join("\n") + "\n");
    for (const name of NAMES.slice(1)) {
      await box.apply(`pipelines:
  p:
    steps:
      t:
        uses: tandem/train
        inputs: { data: data.csv }
        with:
          algorithm: logistic_regression
          task: binary_classification
          data: \${{ inputs.data }}
          target: y
          params: { ${name}: 1 }
        outputs: { model: dir }
`);
      const run = await box.run("p", { noCache: true });
      expect(run.status, name).toBe("failed");
      expect(byName(run).t!.error, name).toContain(`unknown param "${name}"`);
    }
  });
});
