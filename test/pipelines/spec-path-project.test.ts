/**
 * `tandem validate|apply|policies diff PATH` and `tandem run --file PATH` act in the project the spec at PATH names, not in the
 * project of the folder they are run from: validating examples/flights/tandem.yaml from the
 * repository root said "project: flights does not match the project default this request acts in".
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./cli.js";

const SPEC = `project: elsewhere
pipelines:
  hello:
    steps:
      say:
        run: echo hi
`;

describe("a spec given by path", () => {
  const root = mkdtempSync(join(tmpdir(), "tandem-spec-path-"));
  const file = join(root, "project", "tandem.yaml");
  mkdirSync(join(root, "project"));
  writeFileSync(file, SPEC);
  const env = { TANDEM_HOME: join(root, "home") };
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("is validated and applied in its own project: from another folder", async () => {
    const validated = await cli(["validate", file], { cwd: root, env });
    expect(validated.code, validated.stderr).toBe(0);
    expect(validated.stdout).toBe(`${file} is valid (pipelines: hello)\n`);
    const applied = await cli(["apply", file], { cwd: root, env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toBe("applied spec version 1 of project elsewhere\n");
  });

  it("is run in its own project with --file, from a folder whose tandem.yaml names another", async () => {
    const here = join(root, "here");
    mkdirSync(here);
    writeFileSync(join(here, "tandem.yaml"), SPEC.replace("elsewhere", "here"));
    const ran = await cli(["run", "hello", "--file", file, "--json"], { cwd: here, env });
    expect(ran.code, ran.stderr).toBe(0);
    const run = JSON.parse(ran.stdout) as { status: string; project: string };
    expect(run.status).toBe("succeeded");
    const listed = await cli(["runs", "ls", "--project", "elsewhere", "--json"], { cwd: root, env });
    expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(1);
  });

  it("still refuses a --project that the spec contradicts, naming the field", async () => {
    const refused = await cli(["apply", "--project", "other", file], { cwd: root, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${file}:1:10: project: elsewhere does not match the project other`);
  });
});
