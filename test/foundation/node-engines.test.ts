/**
 * `engines.node` says >=20, so a Node 20 `npm ci` must print no EBADENGINE warning: no package in
 * the lockfile, development tools included, may ask for a newer Node. (openai 7 and the newest
 * content-disposition and cookie do; see docs/guides/operations.md, "Node versions".)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "../..");

/** The lowest Node major a range like ">=22.0.0", "^20.19.0 || >=22.12.0" or ">= 18" accepts, or null. */
function lowestMajor(range: string): number | null {
  const lows = range.split("||").map((part) => {
    const m = /(?:>=|\^|~|^)\s*v?(\d+)/.exec(part.trim());
    return m ? Number(m[1]) : null;
  });
  return lows.some((low) => low === null) ? null : Math.min(...(lows as number[]));
}

describe("Node 20 support", () => {
  it("reads engine ranges", () => {
    expect(lowestMajor(">=22.0.0")).toBe(22);
    expect(lowestMajor("^20.19.0 || >=22.12.0")).toBe(20);
    expect(lowestMajor(">= 18")).toBe(18);
    expect(lowestMajor("*")).toBeNull();
  });

  it("no package in the lockfile needs more than Node 20, so npm ci prints no EBADENGINE", () => {
    const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { engines: { node: string } };
    expect(manifest.engines.node).toBe(">=20");
    const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
      packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
    };
    const tooNew = Object.entries(lock.packages)
      .map(([path, entry]) => {
        const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return { path, node, low: node ? lowestMajor(node) : null };
      })
      .filter(({ low }) => low !== null && low > 20)
      .map(({ path, node }) => `${path} needs node ${node}`);
    expect(tooNew).toEqual([]);
  });
});
