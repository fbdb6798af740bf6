/** Reads a local clone's branch head with `git rev-parse` (for polled git triggers). */
import { execFile } from "node:child_process";
import type { GitReader } from "../../core/pipelines/triggers.js";

export class LocalGit implements GitReader {
  head(repoPath: string, branch: string): Promise<string | null> {
    return new Promise((resolve) => {
      execFile(
        "git",
        ["-C", repoPath, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`],
        { timeout: 10_000 },
        (error, stdout) => resolve(error ? null : stdout.trim() || null),
      );
    });
  }
}
