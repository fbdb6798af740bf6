import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { StepSpawner } from "./spawner.js";
import { DirectorySweeper } from "./sweeper.js";

describe("DirectorySweeper", () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  afterAll(() => StepSpawner.shared().close());

  it("removes queued directories on flush, without following links out of them", async () => {
    root = mkdtempSync(join(tmpdir(), "sweeper-"));
    const outside = join(root, "workspace");
    mkdirSync(outside);
    writeFileSync(join(outside, "keep.txt"), "kept");
    const dirs = [1, 2, 3].map((i) => join(root, `step-${i}`));
    for (const dir of dirs) {
      mkdirSync(join(dir, "_tandem", "outputs"), { recursive: true });
      writeFileSync(join(dir, "_tandem", "outputs", "x"), "x");
      symlinkSync(outside, join(dir, "workspace"));
    }
    const sweeper = new DirectorySweeper({ batch: 2 });
    for (const dir of dirs) sweeper.add(dir);
    await sweeper.flush();
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(outside, "keep.txt"))).toBe(true);
  });

  it("names directories that look like options safely", async () => {
    root = mkdtempSync(join(tmpdir(), "sweeper-"));
    const dir = join(root, "-rf");
    mkdirSync(dir);
    const sweeper = new DirectorySweeper();
    sweeper.add(dir);
    await sweeper.flush();
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(root)).toBe(true);
  });
});
