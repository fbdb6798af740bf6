/**
 * LocalGit.describe with real git: what a manual run records of the folder it starts from, asked
 * from a folder below the repository's root as from the root itself.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalGit } from "./git.js";

const root = mkdtempSync(join(tmpdir(), "tandem-git-describe-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COMMITTED = 1_700_000_000;
function repo(name: string): { dir: string; git: (...args: string[]) => string } {
  const dir = join(root, name);
  mkdirSync(join(dir, "sub"), { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.com",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.com",
        GIT_COMMITTER_DATE: `${COMMITTED} +0000`,
      },
    }).trim();
  git("init", "-q");
  return { dir, git };
}

describe("LocalGit.describe", () => {
  const local = new LocalGit({ checkouts: join(root, "checkouts") });

  it("names HEAD, its commit time and every changed path from the root, asked from a subfolder", async () => {
    const { dir, git } = repo("dirty");
    writeFileSync(join(dir, "a.txt"), "a\n");
    writeFileSync(join(dir, "sub", "b.txt"), "b\n");
    git("add", ".");
    git("commit", "-q", "-m", "first");
    const head = git("rev-parse", "HEAD");
    writeFileSync(join(dir, "a.txt"), "changed\n");
    writeFileSync(join(dir, "untracked.txt"), "new\n");
    for (const from of [dir, join(dir, "sub")]) {
      expect(await local.describe(from)).toEqual({
        commit: head,
        committedAt: COMMITTED * 1000,
        dirty: true,
        changed: ["a.txt", "untracked.txt"],
      });
    }
  });

  it("is null for a repository with no commit and for a folder outside any repository", async () => {
    expect(await local.describe(repo("empty").dir)).toBeNull();
    const plain = join(root, "plain");
    mkdirSync(plain);
    expect(await local.describe(plain)).toBeNull();
  });
});
