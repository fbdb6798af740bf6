/**
 * The environment digest (issue 15): it covers the workspace's lockfiles and the versions of the
 * interpreters on the step's PATH, so a changed lockfile or another Python makes the step run again,
 * and the explanation names that part. The Python here is a stub script on the step's PATH that
 * answers `--version` as it is told to, and counts how often it was asked (once per run, not per step).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environmentParts } from "../../src/core/pipelines/engine/environment.js";
import { cli } from "./cli.js";
import { byName, sandbox, type Sandbox } from "./helpers.js";

describe("the environment digest", () => {
  let box: Sandbox;
  let bin: string;
  const python = (version: string) => {
    writeFileSync(
      join(bin, "python3"),
      `#!/bin/sh\necho probed >> "${join(bin, "asked")}"\n[ "$1" = "--version" ] && echo "Python ${version}"\nexit 0\n`,
    );
    chmodSync(join(bin, "python3"), 0o755);
  };
  const spec = () => `project: default
pipelines:
  fit:
    steps:
      one:
        run: echo one
        env:
          PATH: ${bin}:/usr/bin:/bin
      two:
        run: echo two
        env:
          PATH: ${bin}:/usr/bin:/bin
`;
  const changed = async (run: { id: string }, step: string) =>
    (await box.opened.services.pipelines.explainCache("default", run.id, step)).parts
      .filter((p) => p.change !== "same")
      .map((p) => [p.name, p.before?.value ?? null, p.value]);

  beforeAll(async () => {
    box = await sandbox();
    bin = join(box.home, "..", "stub-bin");
    mkdirSync(bin, { recursive: true });
    python("3.11.4");
    box.write("requirements.txt", "numpy==1.26.0\n");
    await box.apply(spec());
  });
  afterAll(async () => box?.close());

  it("records the interpreters on the step's PATH and the lockfiles, probed once per run", async () => {
    const run = await box.run("fit");
    expect(run.status).toBe("succeeded");
    const env = byName(run).one!.environment!;
    expect(env.interpreters.python3).toBe("Python 3.11.4");
    expect(Object.keys(env.lockfiles)).toEqual(["requirements.txt"]);
    expect(byName(run).two!.environment!.digest).toBe(env.digest);
    // Two steps with the same PATH: python3 was asked once (the steps themselves never call it).
    expect(readFileSync(join(bin, "asked"), "utf8").trim().split("\n")).toHaveLength(1);
    const again = await box.run("fit");
    expect(byName(again).one!.cached).toBe(true);
  });

  it("changes when the Python on PATH changes: the step reruns and the explanation names it", async () => {
    python("3.12.1");
    const run = await box.run("fit");
    expect(byName(run).one!.cached).toBe(false);
    expect(byName(run).one!.environment!.interpreters.python3).toBe("Python 3.12.1");
    expect(await changed(run, "one")).toEqual([["environment python3", "Python 3.11.4", "Python 3.12.1"]]);
  });

  it("changes when a lockfile changes", async () => {
    box.write("requirements.txt", "numpy==2.0.0\n");
    const run = await box.run("fit");
    expect(byName(run).one!.cached).toBe(false);
    // The lockfile is a file of the project folder too, which a run: step is keyed on.
    expect((await changed(run, "one")).map(([name]) => name)).toEqual(["checkout", "environment lockfiles"]);
    expect(byName(await box.run("fit")).one!.cached).toBe(true);
  });
});

describe("the image id a step ran", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
    await box.apply(`project: default
pipelines:
  boxed:
    steps:
      hello:
        run: echo hello
        image: python:3.11
`);
  });
  afterAll(async () => box?.close());

  it("is said to be not reported by an executor without a container runtime, never left silently empty", async () => {
    const run = await box.run("boxed");
    expect(run.status).toBe("succeeded");
    const step = byName(run).hello!;
    expect([step.executor, step.environment!.image, step.environment!.imageId]).toEqual(["local", "python:3.11", null]);
    expect(environmentParts(step.environment!, step.executor)).toMatchObject({
      image: "python:3.11",
      image_id: "not reported by local",
    });
    const shown = await cli(["runs", "show", run.id, "--step", "hello"], {
      cwd: box.workspace,
      env: { TANDEM_HOME: box.home },
    });
    expect(shown.stdout, shown.stderr).toContain("image: python:3.11 (image id: not reported by local)");
    // Slurm has no container runtime either; an executor that reports one (Kubernetes) is recorded as is.
    expect(environmentParts(step.environment!, "slurm").image_id).toBe("not reported by slurm");
    const ran = { ...step.environment!, imageId: "docker.io/library/python@sha256:" + "a".repeat(64) };
    expect(environmentParts(ran, "kubernetes").image_id).toBe(ran.imageId);
  });
});
