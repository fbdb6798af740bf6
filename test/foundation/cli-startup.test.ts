/**
 * What a command loads before it does anything: `tandem --help` must not pay for the server stack
 * (Fastify, the AWS SDK, Kysely, pg, onnxruntime, the Kubernetes client), and a read-only embedded
 * command (`runs ls`) must not pay for what it never touches (S3, ONNX, Kubernetes, DuckDB).
 *
 * The real `tandem` binary runs with a module resolve hook that writes every module it resolves to a
 * file: the test reads which packages were loaded, not how long it took (timings are bench/cli's).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const BIN = join(process.cwd(), "bin", "tandem.js");
const dir = mkdtempSync(join(tmpdir(), "tandem-startup-"));

// Registered with --import: a resolve hook that appends each resolved URL to $TANDEM_TEST_TRACE.
const hooks = join(dir, "hooks.mjs");
writeFileSync(
  hooks,
  `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.TANDEM_TEST_TRACE, resolved.url + "\\n");
  if (resolved.format === "commonjs") appendFileSync(process.env.TANDEM_TEST_TRACE, "commonjs-import " + resolved.url + "\\n");
  return resolved;
}
`,
);
const register = join(dir, "register.mjs");
// Also in the command's own thread: every setInterval it calls is written to the trace as
// "interval <caller>". Background loops (schedules, monitors, serving, alert delivery) are intervals.
// And every file require() loads (the bundle requires some CommonJS packages: scripts/build-dist.mjs),
// which the resolve hook above does not see.
writeFileSync(
  register,
  `import { createRequire, register } from "node:module";
import { appendFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
register(${JSON.stringify(pathToFileURL(hooks).href)});
const Module = createRequire(import.meta.url)("node:module");
const loadOf = Module._load;
Module._load = function (request, parent, isMain) {
  try {
    const file = Module._resolveFilename(request, parent, isMain);
    if (isAbsolute(file)) appendFileSync(process.env.TANDEM_TEST_TRACE, pathToFileURL(file).href + "\\n");
  } catch {
    // Not found: the real load below throws as it would.
  }
  return loadOf.apply(this, arguments);
};
const setIntervalOf = globalThis.setInterval;
globalThis.setInterval = function (...args) {
  const caller = (new Error().stack ?? "").split("\\n").slice(2, 4).map((l) => l.trim()).join(" < ");
  appendFileSync(process.env.TANDEM_TEST_TRACE, "interval " + caller + "\\n");
  return setIntervalOf.apply(this, args);
};
`,
);

/** The areas main.ts wires (AREA_WIRINGS), each from src/wiring/<area>.ts. */
const AREAS = ["portal", "tracking", "pipelines", "serving", "monitoring", "registry", "data", "llm", "catalog"];

let bundleSources: Record<string, string[]> | undefined;
/** The sources in each file of the CLI's bundle, as the build wrote them. */
function bundleModules(): Record<string, string[]> {
  bundleSources ??= JSON.parse(
    readFileSync(join(process.cwd(), "dist", "cli-bundle", "modules.json"), "utf8"),
  ) as Record<string, string[]>;
  return bundleSources;
}

/** The npm packages a `tandem` command resolved (scoped ones as @scope/name), and its result. */
function packagesLoaded(args: string[], env: Record<string, string> = {}) {
  const trace = join(dir, `trace-${args.join("-").replace(/\W+/g, "_")}-${Date.now()}`);
  writeFileSync(trace, "");
  const res = spawnSync(process.execPath, ["--import", pathToFileURL(register).href, BIN, ...args], {
    env: { ...process.env, TANDEM_URL: "", TANDEM_DATABASE_URL: "", ...env, TANDEM_TEST_TRACE: trace },
    encoding: "utf8",
  });
  const packages = new Set<string>();
  // The CLI runs as a bundle (dist/cli-bundle/, scripts/build-dist.mjs): each of its files stands for
  // the sources it holds, which the build lists in modules.json.
  const urls = readFileSync(trace, "utf8")
    .split("\n")
    .flatMap((url) => {
      const chunk = /\/dist\/cli-bundle\/([^/]+\.js)$/.exec(url)?.[1];
      return chunk ? [url, ...(bundleModules()[chunk] ?? []).map((source) => `/${source}`)] : [url];
    });
  for (const url of urls) {
    // Installed, or bundled into dist/vendor/NAME.js by the build (scripts/build-dist.mjs).
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url) ?? /\/dist\/vendor\/([^/]+)\.js$/.exec(url);
    if (m) packages.add(m[1]!);
  }
  /** Tandem's own modules under `dir` (e.g. "wiring"), by name: from dist/ or, through tsx, src/. */
  const ownModules = (dir: string) =>
    new Set(
      urls.flatMap((url) => {
        const m = new RegExp(`/(?:dist|src)/${dir}/([\\w-]+)\\.[jt]s$`).exec(url);
        return m && !url.includes("/node_modules/") ? [m[1]!] : [];
      }),
    );
  /** The setInterval calls the command made, by caller. */
  const intervals = urls.filter((line) => line.startsWith("interval "));
  /** Installed CommonJS modules imported through the ES module loader (not require()), by URL. */
  const commonjsImports = urls.flatMap((line) =>
    line.startsWith("commonjs-import ") && line.includes("/node_modules/") ? [line.slice(16)] : [],
  );
  /** The areas whose wiring (src/wiring/<area>.ts, the ones main.ts lists) the command loaded. */
  const areas = [...ownModules("wiring")].filter((m) => AREAS.includes(m)).sort();
  return {
    code: res.status,
    stdout: res.stdout,
    stderr: res.stderr,
    packages,
    ownModules,
    intervals,
    areas,
    commonjsImports,
  };
}

/** The server stack: what only a server, a serving process or a remote executor needs. */
const SERVER_STACK = [
  "fastify",
  "@fastify/static",
  "@aws-sdk/client-s3",
  "@aws-sdk/lib-storage",
  "kysely",
  "pg",
  "better-sqlite3",
  "onnxruntime-node",
  "@kubernetes/client-node",
  "@duckdb/node-api",
  "prom-client",
  "pino",
];

describe("what a command loads at start", () => {
  it("tandem --help loads the CLI parser and nothing of the server stack", () => {
    const res = packagesLoaded(["--help"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("Usage: tandem");
    // The trace works: it saw the one package --help needs.
    expect(res.packages).toContain("commander");
    expect(SERVER_STACK.filter((p) => res.packages.has(p))).toEqual([]);
  });

  /**
   * Node imports a CommonJS module into an ES module only after scanning its source for its exports,
   * cold in each process: ipaddr.js's scan cost every command 15-30 ms of CPU (load 10). The bundle
   * loads the CommonJS packages these commands reach with require() (scripts/build-dist.mjs).
   */
  it("--help and an embedded re-add import no installed CommonJS module through the ES module loader", () => {
    const help = packagesLoaded(["--help"]);
    expect(help.code).toBe(0);
    // The trace sees the package (through require()).
    expect(help.packages).toContain("ipaddr.js");
    expect(help.commonjsImports).toEqual([]);
    const home = mkdtempSync(join(dir, "home-"));
    const data = mkdtempSync(join(dir, "data-"));
    writeFileSync(join(data, "a.txt"), "a\n");
    const env = { TANDEM_HOME: home, TANDEM_PROJECT: "startup" };
    for (const created of [true, false]) {
      const res = packagesLoaded(["data", "add", data, "--name", "d", "--json"], env);
      expect(res.code, res.stderr).toBe(0);
      expect((JSON.parse(res.stdout) as { created: boolean }).created).toBe(created);
      expect(res.packages).toContain("better-sqlite3");
      if (!created) expect(res.commonjsImports).toEqual([]);
    }
  });

  it("a group's help (runs --help) does not load the server stack either", () => {
    const res = packagesLoaded(["runs", "--help"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("Usage: tandem runs");
    expect(SERVER_STACK.filter((p) => res.packages.has(p))).toEqual([]);
  });

  it("an embedded runs ls opens the SQLite store but loads no Postgres, S3, ONNX, Kubernetes or DuckDB code", () => {
    const home = mkdtempSync(join(dir, "home-"));
    const res = packagesLoaded(["runs", "ls", "--json"], { TANDEM_HOME: home });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([]);
    expect(res.packages).toContain("better-sqlite3");
    // The query builder, bundled into dist/vendor/ (or installed, through tsx): the trace sees it either way.
    expect(res.packages).toContain("kysely");
    const unused = [
      "@aws-sdk/client-s3",
      "@aws-sdk/lib-storage",
      "onnxruntime-node",
      "@kubernetes/client-node",
      "@duckdb/node-api",
      // The Postgres driver, for a SQLite store.
      "pg",
      // The Parquet reader, before any Parquet file is read.
      "hyparquet",
    ];
    expect(unused.filter((p) => res.packages.has(p))).toEqual([]);
    expect(res.areas).toEqual(["pipelines"]);
    expect(res.intervals).toEqual([]);
  });

  it("an embedded data add wires the data area and its routes alone; a re-add builds no HTTP app", () => {
    const home = mkdtempSync(join(dir, "home-"));
    const data = mkdtempSync(join(dir, "data-"));
    writeFileSync(join(data, "a.txt"), "a\n");
    const env = { TANDEM_HOME: home, TANDEM_PROJECT: "startup" };
    for (const created of [true, false]) {
      const res = packagesLoaded(["data", "add", data, "--name", "d", "--json"], env);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      expect((JSON.parse(res.stdout) as { created: boolean }).created).toBe(created);
      expect([...res.ownModules("wiring")].filter((m) => m !== "kit")).toEqual(["data"]);
      if (created) {
        // server.ts's own (the version and OpenAPI holder) besides the data routes.
        expect([...res.ownModules("server/routes")].sort()).toEqual([
          "data",
          "data-version-wire",
          "data-wire",
          "system",
        ]);
      } else {
        // Unchanged: answered from the data service (api.embeddedRead), so no app, no route schemas.
        expect([...res.ownModules("server/routes")]).toEqual(["data-version-wire"]);
        expect(["fastify", "zod", "prom-client"].filter((p) => res.packages.has(p))).toEqual([]);
      }
      expect(
        ["onnxruntime-node", "@kubernetes/client-node", "@aws-sdk/client-s3"].filter((p) => res.packages.has(p)),
      ).toEqual([]);
    }
  });

  /**
   * Each embedded read loads the wiring of the areas its scope names (src/cli/api-scopes.ts) alone, and
   * starts no background loop: a loop calls setInterval, which the trace records.
   */
  const READS: Array<{ args: string[]; areas: string[]; code?: number }> = [
    { args: ["runs", "ls"], areas: ["pipelines"] },
    { args: ["runs", "show", "0123456789abcdef0123456789abcdef"], areas: ["pipelines"], code: 4 },
    { args: ["secrets", "ls"], areas: ["pipelines"] },
    { args: ["experiments", "ls"], areas: ["tracking"] },
    { args: ["models", "ls"], areas: ["registry"] },
    // Serving's wiring imports the LLM gateway's resolver from wiring/llm.ts (its module, not its wiring).
    { args: ["endpoints", "ls"], areas: ["llm", "serving"] },
    { args: ["endpoints", "show", "no-such-endpoint"], areas: ["llm", "serving"], code: 4 },
    { args: ["deployments", "ls"], areas: ["llm", "serving"] },
    { args: ["alerts", "ls"], areas: ["monitoring"] },
    { args: ["alerts", "show", "no-such-alert"], areas: ["monitoring"], code: 4 },
    { args: ["monitors", "ls"], areas: ["monitoring"] },
    { args: ["data", "ls"], areas: ["data"] },
  ];
  it.each(READS)("embedded $args loads the wiring of $areas alone and starts no loop", ({ args, areas, code }) => {
    const home = mkdtempSync(join(dir, "home-"));
    const res = packagesLoaded([...args, "--json"], { TANDEM_HOME: home, TANDEM_PROJECT: "startup" });
    expect(res.code, res.stderr).toBe(code ?? 0);
    expect(res.areas).toEqual(areas);
    expect(res.intervals).toEqual([]);
  });

  it("an embedded tandem run wires the areas a run reaches, not portal or catalog, and starts no background loop", () => {
    const home = mkdtempSync(join(dir, "home-"));
    const project = mkdtempSync(join(dir, "project-"));
    writeFileSync(
      join(project, "tandem.yaml"),
      'project: startup\npipelines:\n  p:\n    steps:\n      s:\n        run: "true"\n',
    );
    const res = packagesLoaded(["run", "p", "--file", join(project, "tandem.yaml")], {
      TANDEM_HOME: home,
      TANDEM_PROJECT: "startup",
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.areas).toEqual(["data", "llm", "monitoring", "pipelines", "registry", "serving", "tracking"]);
    // The web UI's server (portal's): steps that never call the API build no app that mounts it.
    expect(res.packages.has("@fastify/static")).toBe(false);
    // The run's own lease heartbeat (its driver's) and no background loop of a server.
    expect(res.intervals.filter((line) => !line.includes("RunDriver.drive"))).toEqual([]);
  });

  it("the trace sees a loop when one starts (tandem server starts its loops)", async () => {
    const home = mkdtempSync(join(dir, "home-"));
    const trace = join(dir, `trace-server-${Date.now()}`);
    writeFileSync(trace, "");
    const child = spawn(process.execPath, ["--import", pathToFileURL(register).href, BIN, "server", "--port", "0"], {
      env: { ...process.env, TANDEM_URL: "", TANDEM_DATABASE_URL: "", TANDEM_HOME: home, TANDEM_TEST_TRACE: trace },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes("listening on")) resolve();
        });
        child.on("exit", (c) => reject(new Error(`tandem server exited ${c}`)));
      });
      const intervals = readFileSync(trace, "utf8")
        .split("\n")
        .filter((line) => line.startsWith("interval "));
      expect(intervals.some((line) => line.includes("runLoop"))).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
