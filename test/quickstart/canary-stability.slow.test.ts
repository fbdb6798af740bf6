/**
 * Issue 21: the quickstart rolled its canary back in one of two runs on the same machine, on 39
 * requests whose latency ratio was noise. Five shortened quickstarts in a row, on a machine kept
 * busy by two CPU hogs (one per core here, on top of whatever else runs), must reach the same
 * canary outcome, and the summary must say why.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../pipelines/cli.js";

const RUNS = 5;
// Five quickstarts under two CPU hogs take 3-4 minutes on an idle 2-core machine (16 on one already
// at load 14): CI runs them on every push; a developer's run asks for them.
const slow = Boolean(process.env.CI || process.env.TANDEM_SLOW_TESTS);
if (!slow) console.log("canary-stability: skipped (set TANDEM_SLOW_TESTS=1 or CI to run 5 quickstarts under load)");

describe.runIf(slow)("the quickstart's canary under load", () => {
  const hogs: ChildProcess[] = [];
  beforeAll(() => {
    for (let i = 0; i < 2; i++) hogs.push(spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  });
  afterAll(() => {
    for (const h of hogs) h.kill("SIGKILL");
  });

  it(`reaches the same outcome in ${RUNS} runs in a row, and says why`, { timeout: 1_200_000 }, async () => {
    const outcomes: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const home = join(mkdtempSync(join(tmpdir(), "tandem-qs-canary-")), "home");
      const r = await cli(["quickstart", "--rows", "20000", "--replay-rows", "1500", "--months", "2"], {
        cwd: tmpdir(),
        env: { TANDEM_HOME: home },
      });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split("\n");
      const at = lines.findIndex((l) => l.startsWith("Canary "));
      expect(at, r.stdout).toBeGreaterThan(0);
      outcomes.push(lines[at]!.replace(/@1: \d+, @2: \d+ flights/, "…"));
      // The lines under the outcome say why: each SLO with both values, sizes and p-value, or the breach.
      const why = lines.slice(at + 1).filter((l) => l.startsWith("          "));
      expect(why.join("\n"), r.stdout).toMatch(
        /(latency|error rate) SLO: canary .* vs primary .* \(\d+\).*p = [\d.e-]+/,
      );
    }
    expect(outcomes).toEqual(new Array<string>(RUNS).fill(outcomes[0]!));
    expect(outcomes[0]).toBe("Canary    … → promoted");
  });
});
