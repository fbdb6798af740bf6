/**
 * Tandem as an npm package: pack what `npm pack` would publish, install the tarball into an empty
 * project, import the client from plain Node (no TypeScript loader) and run the binary through npx.
 *
 * Packing happens in a staging copy of exactly the files npm lists for the repository, so the test
 * never writes into the working tree (npm would prefer a stray npm-shrinkwrap.json to the lockfile).
 * The install is offline, from npm's cache that `npm ci` filled, resolved by the shrinkwrap the
 * tarball ships, and skips install scripts: it proves what the tarball holds and how it resolves.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "tandem-pack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Without the npm_* variables vitest inherits from `npm test`, which would point npm at the repository.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));

function npm(args: string[], cwd: string): { stdout: string; stderr: string } {
  const res = spawnSync("npm", args, { cwd, env: cleanEnv, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`npm ${args.join(" ")} failed:\n${res.stderr}`);
  return { stdout: res.stdout, stderr: res.stderr };
}

type LockEntry = { dev?: boolean; engines?: { node?: string } };

describe("the npm package", () => {
  it("packs dist/ with types and a shrinkwrap, installs on Node 20 cleanly, imports in plain Node, runs npx tandem", () => {
    const listed = JSON.parse(npm(["pack", "--dry-run", "--json", "--ignore-scripts"], REPO).stdout) as Array<{
      files: Array<{ path: string }>;
    }>;
    const stage = join(work, "stage");
    for (const { path } of listed[0]!.files) {
      mkdirSync(dirname(join(stage, path)), { recursive: true });
      cpSync(join(REPO, path), join(stage, path));
    }
    cpSync(join(REPO, "package-lock.json"), join(stage, "package-lock.json"));
    // What `prepack` does on publish (prepare's build already ran: dist/ is fresh, see global setup).
    execFileSync(process.execPath, [join(REPO, "scripts/shrinkwrap.mjs")], { cwd: stage });
    const packed = JSON.parse(
      npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], stage).stdout,
    ) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const files = new Set(packed[0]!.files.map((f) => f.path));
    for (const needed of [
      "bin/tandem.js",
      "dist/cli-bundle/index.js",
      "dist/client/index.js",
      "dist/client/index.d.ts",
      "npm-shrinkwrap.json",
      // The Kubernetes manifests, rendered from the installed package in docs/guides/kubernetes.md.
      "deploy/overlays/production/kustomization.yaml",
    ]) {
      expect(files, needed).toContain(needed);
    }
    expect(
      [...files].filter((f) => /^(src|test)\//.test(f) || (f.startsWith("dist/") && f.endsWith(".test.js"))),
    ).toEqual([]);

    // The shipped tree: runtime packages only, each one supporting Node 20 (no EBADENGINE on install).
    const shrinkwrap = JSON.parse(readFileSync(join(stage, "npm-shrinkwrap.json"), "utf8")) as {
      packages: Record<string, LockEntry>;
    };
    const entries = Object.entries(shrinkwrap.packages).filter(([path]) => path !== "");
    expect(entries.filter(([, e]) => e.dev).map(([p]) => p)).toEqual([]);
    const node22Only = entries.filter(([, e]) => /^>=\s*2[2-9]/.test(e.engines?.node ?? "")).map(([p]) => p);
    expect(node22Only).toEqual([]);
    const versionsOf = (name: string) =>
      entries
        .filter(([path]) => path.endsWith(`node_modules/${name}`))
        .map(([, e]) => (e as { version: string }).version);
    expect(new Set(versionsOf("cookie"))).toEqual(new Set(["1.1.1"]));
    expect(new Set(versionsOf("content-disposition"))).toEqual(new Set(["2.0.1"]));

    // An application installs the tarball. Offline, npm resolves dependencies only from packages
    // already in node_modules, so the application starts with a hard-linked copy of the repository's
    // (the tree `npm ci` made from the same lockfile the shrinkwrap comes from); npm then adds
    // tandem, checks every dependency edge, and prunes what tandem does not need (the dev tools).
    const app = join(work, "app");
    mkdirSync(app);
    const manifest = JSON.parse(readFileSync(join(stage, "package.json"), "utf8")) as {
      overrides: unknown;
      exports: Record<string, { types: string }>;
    };
    // npm installs a registry package's shrinkwrap as it is; without one, the application carries the
    // same overrides.
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "app", type: "module", overrides: manifest.overrides }),
    );
    // realpath: in a git worktree node_modules is often a symlink, which cp -a would copy as a link.
    execFileSync("cp", ["-al", realpathSync(join(REPO, "node_modules")), join(app, "node_modules")]);
    const install = npm(
      ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", join(work, packed[0]!.filename)],
      app,
    );
    expect(install.stderr).not.toMatch(/EBADENGINE/);

    writeFileSync(
      join(app, "use.mjs"),
      [
        'import { existsSync } from "node:fs";',
        'import { TandemClient } from "tandem";',
        'import { flightsParquetPath, trainModel } from "tandem/training";',
        'import { profileTable } from "tandem/data";',
        'const client = new TandemClient({ url: "http://127.0.0.1:1", token: "t", project: "p" });',
        "console.log(typeof TandemClient, typeof client.runs.get, typeof trainModel, existsSync(flightsParquetPath()));",
        "console.log(profileTable({ x: [1, 2, 3] }).columns[0].count);",
      ].join("\n"),
    );
    const imported = spawnSync(process.execPath, ["use.mjs"], { cwd: app, encoding: "utf8" });
    expect(imported.stderr).toBe("");
    // tandem/training (the built-in trainers and the flights sample the guides use) works installed too.
    // tandem/data (dataset profiles, docs/guides/data.md "From code") as well.
    expect(imported.stdout.trim()).toBe("function function function true\n3");
    // TypeScript users get the declarations through the same `exports`.
    expect(readFileSync(join(app, "node_modules/tandem", manifest.exports["."]!.types), "utf8")).toMatch(
      /export declare class TandemClient/,
    );

    const help = spawnSync("npx", ["--no-install", "tandem", "--help"], { cwd: app, env: cleanEnv, encoding: "utf8" });
    expect(help.stdout).toMatch(/^Usage: tandem/m);
    expect(help.stdout).toMatch(/quickstart/);
    expect(help.status).toBe(0);
    // An installed package has no src/: no notice about stale builds or tsx.
    expect(help.stderr).toBe("");
  });
});
