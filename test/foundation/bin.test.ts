/**
 * bin/tandem.js, the launcher: it runs dist/, says once on stderr when src/ is newer, and runs the
 * sources only when asked (TANDEM_FROM_SOURCE=1). The tree here is a copy of the launcher beside a
 * one-line dist/ and src/ that say which of them ran, so the test watches the launcher's choice alone.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "../..");
const tree = mkdtempSync(join(tmpdir(), "tandem-bin-"));
afterAll(() => rmSync(tree, { recursive: true, force: true }));

function launch(env: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, [join(tree, "bin/tandem.js"), "x"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe("bin/tandem.js", () => {
  mkdirSync(join(tree, "bin"));
  cpSync(join(REPO, "bin/tandem.js"), join(tree, "bin/tandem.js"));
  writeFileSync(join(tree, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(join(REPO, "node_modules"), join(tree, "node_modules"));
  mkdirSync(join(tree, "dist/cli-bundle"), { recursive: true });
  writeFileSync(
    join(tree, "dist/cli-bundle/index.js"),
    'export async function main() { console.log("dist"); return 0; }\n',
  );
  mkdirSync(join(tree, "src/cli"), { recursive: true });
  const source = 'export async function main(): Promise<number> { console.log("src"); return 3; }\n';
  writeFileSync(join(tree, "src/cli/index.ts"), source);
  const built = join(tree, "dist/.built");
  writeFileSync(built, "");

  it("runs dist/ silently when it is newer than every source", () => {
    utimesSync(built, new Date(), new Date(Date.now() + 60_000));
    expect(launch()).toEqual({ code: 0, stdout: "dist\n", stderr: "" });
  });

  it("still runs dist/ when a source is newer, and says so once, naming the file and the ways out", () => {
    utimesSync(built, new Date(), new Date(Date.now() - 60_000));
    const res = launch();
    expect(res.stdout).toBe("dist\n");
    expect(res.stderr.trim().split("\n")).toEqual([
      "tandem: src/cli/index.ts is newer than dist/, which runs anyway: run npm run build:dist, or set TANDEM_FROM_SOURCE=1 to run the sources",
    ]);
    // A tandem started by tandem (a server's child, a step agent) inherits the notice and stays quiet.
    expect(launch({ TANDEM_BUILD_NOTICE_GIVEN: "1" }).stderr).toBe("");
  });

  it("ignores a newer test file: tests are not built into dist/", () => {
    const past = new Date(Date.now() - 120_000);
    utimesSync(join(tree, "src/cli/index.ts"), past, past);
    utimesSync(built, new Date(), new Date(Date.now() - 60_000));
    writeFileSync(join(tree, "src/cli/index.test.ts"), "// a test\n");
    expect(launch()).toEqual({ code: 0, stdout: "dist\n", stderr: "" });
    writeFileSync(join(tree, "src/cli/more.ts"), "export {};\n");
    expect(launch().stderr).toMatch(/^tandem: src\/cli\/more\.ts is newer than dist\//);
    rmSync(join(tree, "src/cli/more.ts"));
    rmSync(join(tree, "src/cli/index.test.ts"));
  });

  it("runs the TypeScript sources through tsx with TANDEM_FROM_SOURCE=1, and their exit code", () => {
    expect(launch({ TANDEM_FROM_SOURCE: "1" })).toEqual({ code: 3, stdout: "src\n", stderr: "" });
  });

  it("runs the sources with a notice when dist/ was never built", () => {
    rmSync(built);
    const res = launch();
    expect(res.stdout).toBe("src\n");
    expect(res.stderr).toMatch(/dist\/ is not built.*npm run build:dist/);
  });
});
