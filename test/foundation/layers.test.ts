/**
 * The house's one-way data flow (docs/architecture.md): commands and the domain never reach a
 * store's implementation directly. A command that needs local state goes through a port that the
 * composition root (src/main.ts) implements; the domain imports no outer layer at all.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [full] : [];
  });
}

/** `file: specifier` for every import in `dir` whose specifier matches `forbidden`. */
function importsMatching(dir: string, forbidden: RegExp): string[] {
  return sources(join(SRC, dir)).flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/gm)]
      .map((m) => m[1]!)
      .filter((specifier) => forbidden.test(specifier))
      .map((specifier) => `${relative(SRC, file)}: ${specifier}`),
  );
}

describe("layers", () => {
  it("commands (src/cli) do not import stores", () => {
    expect(importsMatching("cli", /(^|\/)stores\//)).toEqual([]);
  });

  it("the domain (src/core) imports no store, executor, server, command or wiring", () => {
    expect(importsMatching("core", /^(\.\.\/)+(stores|executors|server|cli|wiring)\//)).toEqual([]);
  });

  it("finds imports at all (a pattern that matched nothing would pass silently)", () => {
    expect(importsMatching("cli", /^\.\.\/core\//).length).toBeGreaterThan(10);
  });
});
