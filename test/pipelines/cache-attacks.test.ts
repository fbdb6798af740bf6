/**
 * A cache hit must never stand in for work whose inputs, code or checks changed: attacks on the step
 * cache key, each a hole before its fix (a hit where the step had to run), on SQLite and Postgres.
 * - a secret's value rotated (the key covers a keyed fingerprint of it, never the value);
 * - a file of the checkout a `run:` step runs (`sh train.sh`) edited, in a plain folder and in git;
 * - a cached output's blob deleted or truncated in the artifact store (the hit checks every blob);
 * - the built-in step's code changed (another Tandem build);
 * - the executor the step runs on changed (local → slurm: the environment probed is another's).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, truncateSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineDeps } from "../../src/core/pipelines/engine/deps.js";
import { getManifest } from "../../src/core/artifacts/manifest.js";
import { freshDatabase, postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { byName, sandbox, type Sandbox } from "./helpers.js";

const SPEC = `project: default
pipelines:
  secret:
    steps:
      use:
        run: |
          printf '%s' "$TOKEN" | wc -c > "$TANDEM_OUTPUT_OUT"
        secrets: [TOKEN]
        outputs:
          out: file
  train:
    steps:
      fit:
        run: |
          sh train.sh > "$TANDEM_OUTPUT_MODEL"
        outputs:
          model: file
      narrow:
        run: |
          sh train.sh > "$TANDEM_OUTPUT_MODEL"
        cache:
          files: [train.sh]
        outputs:
          model: file
  chain:
    steps:
      make:
        run: |
          mkdir -p "$TANDEM_OUTPUT_OUT/sub"
          echo one > "$TANDEM_OUTPUT_OUT/sub/a.txt"
          echo two > "$TANDEM_OUTPUT_OUT/b.txt"
        outputs:
          out: dir
      read:
        run: cat \${{ inputs.made }}/sub/a.txt \${{ inputs.made }}/b.txt
        inputs:
          made: \${{ steps.make.outputs.out }}
  check:
    steps:
      validate:
        uses: tandem/validate
        with:
          dataset: rows@latest
          expect:
            rows: { min: 1 }
`;

function blobPath(home: string, sha: string): string {
  return join(home, "artifacts", "sha256", sha.slice(0, 2), sha.slice(2));
}

for (const kind of STORE_KINDS) {
  const suite = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  suite(`the step cache key covers what the step runs on [${kind}]`, () => {
    let box: Sandbox;
    let cleanup: () => Promise<void> | void = () => undefined;
    beforeAll(async () => {
      const db = await freshDatabase(kind);
      cleanup = db.cleanup;
      const url = db.database.kind === "postgres" ? db.database.url : `sqlite:${db.database.file}`;
      box = await sandbox({ TANDEM_DATABASE_URL: url });
      box.write("train.sh", "echo weights-1\n");
      box.write("notes.md", "unrelated\n");
      await box.apply(SPEC);
      const data = box.opened.services.data;
      const blob = await data.putBlob(Readable.from([Buffer.from("a,b\n1,2\n")]));
      await data.createVersion("admin", "default", "rows", {
        kind: "file",
        entries: [{ path: "rows.csv", sha256: blob.sha256, size: blob.size }],
      });
    });
    afterAll(async () => {
      await box?.close();
      await cleanup();
    });
    const explain = (run: { id: string }, step: string) =>
      box.opened.services.pipelines.explainCache("default", run.id, step);
    const changedParts = async (run: { id: string }, step: string) =>
      (await explain(run, step)).parts.filter((p) => p.change !== "same").map((p) => p.name);
    const ok = (run: Awaited<ReturnType<Sandbox["run"]>>) =>
      expect(run.status, JSON.stringify(run.steps.map((s) => [s.name, s.status, s.error]))).toBe("succeeded");

    it("reruns a step whose secret's value was rotated, without keeping the value", async () => {
      const secrets = box.opened.services.secrets;
      await secrets.set("admin", "default", "TOKEN", "first-secret-value");
      const first = await box.run("secret");
      ok(first);
      expect(byName(await box.run("secret")).use!.cached).toBe(true);
      await secrets.set("admin", "default", "TOKEN", "second-value");
      const rotated = await box.run("secret");
      ok(rotated);
      expect(byName(rotated).use!.cached).toBe(false);
      expect(await changedParts(rotated, "use")).toEqual(["secret TOKEN"]);
      // Neither the value nor its plain hash (a short secret's hash is a dictionary lookup away).
      const info = JSON.stringify(byName(rotated).use!.cacheInfo);
      for (const value of ["second-value", "first-secret-value"]) {
        expect(info).not.toContain(value);
        expect(info).not.toContain(createHash("sha256").update(value).digest("hex"));
      }
      // The same value again is the same key.
      await secrets.set("admin", "default", "TOKEN", "first-secret-value");
      expect(byName(await box.run("secret")).use!.cached).toBe(true);
    });

    it("reruns a run: step when a file of the checkout it runs changes (a plain folder)", async () => {
      const first = await box.run("train");
      ok(first);
      const again = await box.run("train");
      expect(again.steps.map((s) => [s.name, s.cached])).toEqual([
        ["fit", true],
        ["narrow", true],
      ]);
      box.write("train.sh", "echo weights-2\n");
      const edited = await box.run("train");
      ok(edited);
      expect(byName(edited).fit!.cached).toBe(false);
      expect(await changedParts(edited, "fit")).toEqual(["checkout"]);
      expect(byName(edited).narrow!.cached).toBe(false);
      expect(await changedParts(edited, "narrow")).toEqual(["files train.sh"]);
      // A file the narrowed step did not declare: only the step that reads the whole checkout reruns.
      box.write("notes.md", "still unrelated\n");
      const notes = await box.run("train");
      expect(notes.steps.map((s) => [s.name, s.cached])).toEqual([
        ["fit", false],
        ["narrow", true],
      ]);
      // Tandem's own files are not code: the lock it writes, its spec (keyed by each step's definition).
      await box.apply(`${SPEC}\n# a comment\n`);
      expect(byName(await box.run("train")).fit!.cached).toBe(true);
    });

    it("reruns a run: step when a committed or uncommitted file of a git checkout changes", async () => {
      const git = (...args: string[]) =>
        execFileSync("git", ["-C", box.workspace, ...args], {
          env: {
            ...process.env,
            GIT_AUTHOR_NAME: "t",
            GIT_AUTHOR_EMAIL: "t@x",
            GIT_COMMITTER_NAME: "t",
            GIT_COMMITTER_EMAIL: "t@x",
          },
        });
      git("init", "-q");
      git("add", "-A");
      git("commit", "-qm", "one");
      ok(await box.run("train"));
      expect(byName(await box.run("train")).fit!.cached).toBe(true);
      box.write("train.sh", "echo weights-3\n"); // uncommitted
      const dirty = await box.run("train");
      expect(byName(dirty).fit!.cached).toBe(false);
      expect(await changedParts(dirty, "fit")).toEqual(["checkout"]);
      git("commit", "-qam", "two"); // the same content committed: the same key
      expect(byName(await box.run("train")).fit!.cached).toBe(true);
      box.write("lib/util.sh", "x=1\n"); // an untracked file the script could source
      expect(byName(await box.run("train")).fit!.cached).toBe(false);
    });

    it("reruns a step whose cached output lost a blob or had one cut short", async () => {
      const first = await box.run("chain");
      ok(first);
      const manifest = byName(first).make!.outputs.out!;
      const entries = (await getManifest(box.opened.services.artifacts, manifest)).entries;
      const a = entries.find((e) => e.path === "sub/a.txt")!;
      const b = entries.find((e) => e.path === "b.txt")!;
      unlinkSync(blobPath(box.home, a.sha256));
      const lost = await box.run("chain");
      ok(lost);
      expect(byName(lost).make!.cached).toBe(false);
      expect((await explain(lost, "make")).summary).toContain("cached outputs are gone");
      truncateSync(blobPath(box.home, b.sha256), 1);
      const cut = await box.run("chain");
      ok(cut);
      expect(byName(cut).make!.cached).toBe(false);
      expect(readFileSync(blobPath(box.home, b.sha256), "utf8")).toBe("two\n");
    });

    it("reruns a built-in step when Tandem's code changed", async () => {
      ok(await box.run("check"));
      expect(byName(await box.run("check")).validate!.cached).toBe(true);
      // Another Tandem build on the same store: what `uses: tandem/validate` runs is not the same code.
      const engine = (box.opened.services.pipelines as unknown as { o: { engine: EngineDeps } }).o.engine;
      const before = engine.tandemCode;
      engine.tandemCode = async () => "another build";
      try {
        const upgraded = await box.run("check");
        ok(upgraded);
        expect(byName(upgraded).validate!.cached).toBe(false);
        expect(await changedParts(upgraded, "validate")).toEqual(["builtin tandem/validate"]);
      } finally {
        engine.tandemCode = before;
      }
    });

    it("does not serve a step moved to another executor from the local run's cache", async () => {
      ok(await box.run("secret"));
      expect(byName(await box.run("secret")).use!.cached).toBe(true);
      // The pipeline's steps now go to Slurm (a default for its steps, not the step's own field):
      // another machine, whose tools the environment part (probed here) does not describe. This
      // server has no Slurm, so the step cannot run there: a hit would report it done anyway.
      await box.apply(SPEC.replace("  secret:\n    steps:", "  secret:\n    executor: slurm\n    steps:"));
      const moved = await box.run("secret");
      const use = byName(moved).use!;
      expect(use.cached).toBe(false);
      expect(use.status).toBe("failed");
      expect(await changedParts(moved, "use")).toEqual(["executor"]);
      await box.apply(SPEC);
    });
  });
}
