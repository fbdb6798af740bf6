import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byName, sandbox, type Sandbox } from "./helpers.js";

describe("pipeline features", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
  });
  afterAll(async () => box?.close());
  const p = () => box.opened.services.pipelines;

  it("substitutes hostile param values shell-quoted: no injection, exact bytes", async () => {
    await box.apply(`pipelines:
  echo:
    params: { v: x }
    steps:
      say:
        run: |
          printf '%s' \${{ params.v }} > "$TANDEM_OUTPUT_OUT"
          printf '%s' \${{ params.v }}/suffix > "$TANDEM_OUTPUT_OUT2"
        outputs:
          out: file
          out2: file
`);
    for (const value of [
      "$(touch pwned)",
      "`touch pwned`",
      "'; touch pwned; echo '",
      '"; touch pwned #',
      "a\nb; touch pwned\n",
    ]) {
      const run = await box.run("echo", { params: { v: value } });
      expect(run.status).toBe("succeeded");
      const { getManifest } = await import("../../src/core/artifacts/manifest.js");
      const m = await getManifest(box.opened.services.artifacts, byName(run).say!.outputs.out!);
      const chunks: Buffer[] = [];
      for await (const c of await box.opened.services.artifacts.getBlob(m.entries[0]!.sha256)) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe(value);
    }
    const leftovers = readdirSync(box.opened.services.config.workDir, { recursive: true }).map(String);
    expect(leftovers.some((f) => f.endsWith("pwned"))).toBe(false);
    expect(existsSync(join(box.workspace, "pwned"))).toBe(false);
  });

  it("masks secrets in logs and keeps them out of the run record", async () => {
    await box.opened.services.secrets.set("admin", "default", "API_KEY", "s3cr3t-value-42");
    await box.apply(`pipelines:
  sec:
    steps:
      use:
        secrets: [API_KEY]
        run: |
          echo "key is $API_KEY"
          echo "again: $API_KEY" >&2
          test "$API_KEY" = s3cr3t-value-42
`);
    const run = await box.run("sec");
    expect(run.status).toBe("succeeded");
    const { chunks } = await p().logs("default", run.id, {});
    const text = chunks.map((c) => c.text).join("\n");
    expect(text).toContain("key is ***");
    expect(text).toContain("again: ***");
    expect(text).not.toContain("s3cr3t");
    expect(JSON.stringify(run)).not.toContain("s3cr3t");
    const sealed = await box.opened.services.pipelines.store.getSecret("default", "API_KEY");
    expect(sealed!.sealed).not.toContain("s3cr3t");
  });

  it("fails a step that needs a missing secret, naming it", async () => {
    await box.apply(`pipelines:
  nosec:
    steps:
      use:
        secrets: [NOPE]
        run: echo hi
`);
    const run = await box.run("nosec");
    expect(run.status).toBe("failed");
    expect(byName(run).use!.error).toMatch(/secret NOPE is not set .*tandem secrets set NOPE/);
    // Its tracking run ends with it: it stayed RUNNING when the step failed before its command ran.
    const tracked = await box.opened.services.tracking!.getRun("default", byName(run).use!.trackingRunId!);
    expect(tracked.info.status).toBe("FAILED");
  });

  it("retries with backoff, then `retry` reruns only failed and cancelled steps", async () => {
    box.write("flaky-ok", "");
    await box.apply(`pipelines:
  flaky:
    steps:
      first:
        run: echo one > "$TANDEM_OUTPUT_O"
        outputs: { o: file }
      broken:
        needs: [first]
        retries: 1
        run: test -f "$TANDEM_WORKSPACE/fixed"
      after:
        needs: [broken]
        run: echo done
`);
    const failed = await box.run("flaky");
    expect(failed.status).toBe("failed");
    const s = byName(failed);
    expect([s.first!.status, s.broken!.status, s.after!.status]).toEqual(["succeeded", "failed", "cancelled"]);
    expect(s.broken!.attempt).toBe(2);
    expect(s.after!.error).toMatch(/upstream step broken/);

    box.write("fixed", "");
    await p().retry("admin", "default", failed.id);
    await p().settled(failed.id);
    const again = await p().getRun("default", failed.id);
    expect(again.status).toBe("succeeded");
    const a = byName(again);
    expect(a.first!.startedAt).toBe(s.first!.startedAt);
    expect(a.broken!.status).toBe("succeeded");
    expect(a.after!.status).toBe("succeeded");
  });

  it("kills a timed-out step's whole process tree", async () => {
    await box.apply(`pipelines:
  slow:
    steps:
      hang:
        timeout: 1s
        run: |
          (sleep 30.417; touch "$TANDEM_WORKSPACE/child-survived") &
          sleep 30.417
`);
    const started = Date.now();
    const run = await box.run("slow");
    expect(run.status).toBe("failed");
    expect(byName(run).hang!.error).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(15_000);
    const { execSync } = await import("node:child_process");
    // No `sleep 30.417` of that step is left: its process group is gone. (A duration no other test
    // uses: other files' `sleep 30` run alongside and made this fail now and then.)
    expect(execSync("ps -eo args").toString()).not.toMatch(/^sleep 30\.417$/m);
  });

  it("gives a timed-out step in the sandbox its grace period: TERM first, time to clean up", async () => {
    // Signalled as a group, the outer bwrap died at once and took the namespace down with SIGKILL:
    // the trap below never finished. Outside the sandbox it always had its grace period.
    await box.apply(`pipelines:
  graceful:
    steps:
      trap:
        timeout: 1s
        run: |
          if [ -e "${box.home}/tandem.db" ]; then echo visible; else echo hidden; fi > "$TANDEM_WORKSPACE/server-files"
          trap 'sleep 0.3; echo cleaned > "$TANDEM_WORKSPACE/cleaned"; exit 143' TERM
          sleep 30 & wait
`);
    const run = await box.run("graceful");
    expect(byName(run).trap!.error).toMatch(/timed out/);
    expect(readFileSync(join(box.workspace, "server-files"), "utf8").trim()).toBe("hidden"); // it was sandboxed
    expect(readFileSync(join(box.workspace, "cleaned"), "utf8").trim()).toBe("cleaned");
  });

  it("cancels a running run", async () => {
    await box.apply(`pipelines:
  long:
    steps:
      wait:
        run: sleep 30
      later:
        needs: [wait]
        run: echo never
`);
    const run = (await p().startRun("admin", "default", { pipeline: "long" }))!;
    for (let i = 0; i < 100 && (await p().getRun("default", run.id)).steps[0]!.status !== "running"; i++)
      await new Promise((r) => setTimeout(r, 50));
    await p().cancel("admin", "default", run.id);
    await p().settled(run.id);
    const done = await p().getRun("default", run.id);
    expect(done.status).toBe("cancelled");
    expect(done.steps.map((x) => x.status)).toEqual(["cancelled", "cancelled"]);
  });

  it("fans out a matrix, picks the best, skips on if:, runs builtins", async () => {
    await box.apply(`pipelines:
  sweep:
    params: { deploy: false }
    steps:
      train:
        matrix:
          lr: [0.1, 0.5, 0.3]
        run: |
          echo '{"score": '\${{ matrix.lr }}'}' > metrics.json
          echo \${{ params.lr }} > "$TANDEM_OUTPUT_MODEL"
        outputs: { model: file }
        metrics: metrics.json
      pick:
        run: cat \${{ steps.train.best('score').outputs.model }}
      lowest:
        run: cat \${{ steps.train.best('score', 'min').outputs.model }}
      deploy:
        needs: [pick]
        if: \${{ params.deploy }}
        run: echo deploying
      after-deploy:
        needs: [deploy]
        run: echo never
      note:
        uses: tandem/echo
        with:
          message: best is \${{ steps.train.best('score').metrics.score }}
`);
    const run = await box.run("sweep");
    expect(run.status).toBe("succeeded");
    expect(run.steps.filter((s) => s.step === "train").map((s) => s.name)).toEqual([
      "train[lr=0.1]",
      "train[lr=0.5]",
      "train[lr=0.3]",
    ]);
    const logs = async (step: string) =>
      (await p().logs("default", run.id, { step })).chunks.filter((c) => c.stream !== "system").map((c) => c.text);
    expect(await logs("pick")).toEqual(["0.5"]);
    expect(await logs("lowest")).toEqual(["0.1"]);
    expect(await logs("note")).toEqual(["best is 0.5"]);
    const s = byName(run);
    expect(s.deploy!.status).toBe("skipped");
    expect(s["after-deploy"]!.status).toBe("skipped");
    const deployed = await box.run("sweep", { params: { deploy: true } });
    expect(byName(deployed).deploy!.status).toBe("succeeded");
    expect(byName(deployed)["train[lr=0.5]"]!.cached).toBe(true);
  });

  it("checks -p overrides against the declared type before running", async () => {
    await expect(p().startRun("admin", "default", { pipeline: "sweep", params: { deploy: "maybe" } })).rejects.toThrow(
      "param deploy: expected true or false",
    );
  });
});
