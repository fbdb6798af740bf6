/**
 * Pipeline CI in the quickstart: the example becomes a git repository of its own, and a push webhook
 * (signed as GitHub signs it) starts pipeline `ci` on that commit. It is what level 2 of MLOps
 * maturity asks for, "a git-triggered run of the pipeline code with its tests", done the way a team
 * wires its own repository to Tandem.
 */
import { execFile } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TandemApi } from "../cli/api.js";
import { p, PROJECT } from "./client.js";

const run = promisify(execFile);

/** Where the quickstart's copy of the example lives, and the commit it holds. */
export interface ExampleRepository {
  dir: string;
  commit: string;
}

/**
 * Copies the example into a folder of its own beside the temporary files (never inside the home: a
 * project may not read the server's own files) and commits it on `main`. Null when git is not
 * installed: the quickstart then runs from the example's folder, without the push.
 */
export async function exampleRepository(exampleDir: string): Promise<ExampleRepository | null> {
  const dir = join(await mkdtemp(join(tmpdir(), "tandem-quickstart-")), PROJECT);
  await cp(exampleDir, dir, { recursive: true, filter: (src) => !src.includes(".tandem") });
  const git = (...args: string[]) =>
    run("git", ["-C", dir, "-c", "user.name=Tandem quickstart", "-c", "user.email=quickstart@tandem.invalid", ...args]);
  try {
    await git("init", "-q", "-b", "main");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  await git("add", "-A");
  await git("commit", "-q", "-m", "flights: the quickstart's example");
  return { dir, commit: (await git("rev-parse", "HEAD")).stdout.trim() };
}

/**
 * Sets the project's webhook secret and sends the push of `commit` to `refs/heads/main`, signed with
 * it. Returns the id of the run it started for pipeline `ci`.
 */
export async function sendPush(admin: TandemApi, url: string, repo: ExampleRepository): Promise<string> {
  const secret = randomBytes(24).toString("hex");
  await admin.put(p("/secrets/GIT_WEBHOOK_SECRET"), { value: secret });
  const body = JSON.stringify({
    ref: "refs/heads/main",
    after: repo.commit,
    repository: { full_name: `quickstart/${PROJECT}` },
  });
  const response = await fetch(`${url}/api/v1/hooks/git?project=${PROJECT}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
    body,
  });
  const answer = (await response.json()) as { runs?: Array<{ pipeline: string; run_id: string | null }> };
  const ci = answer.runs?.find((r) => r.pipeline === "ci")?.run_id;
  if (!response.ok || !ci) throw new Error(`the push webhook started no ci run: ${JSON.stringify(answer)}`);
  return ci;
}
