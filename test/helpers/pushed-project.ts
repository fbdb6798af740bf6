/**
 * Project `grade` as the maturity tests need it: its spec committed to a fresh git repository, applied,
 * and a push webhook (signed as GitHub signs it) that starts its `ci` pipeline, run to the end.
 */
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { TestServer } from "./server.js";

export const GRADE_SPEC = `project: grade
pipelines:
  ci:
    triggers:
      - git: { branch: main }
    steps:
      unit-tests:
        run: test -f tandem.yaml
      build:
        needs: [unit-tests]
        run: echo built
  train:
    triggers:
      - schedule: "0 3 * * *"
    steps:
      validate:
        run: echo valid
      train:
        needs: [validate]
        run: echo trained
`;

/** Applies GRADE_SPEC from its repository and pushes it; the push's ci run has settled on return. */
export async function pushGradeProject(t: TestServer, secret: string): Promise<{ runId: string; commit: string }> {
  const work = mkdtempSync(join(tmpdir(), "grade-project-"));
  writeFileSync(join(work, "tandem.yaml"), GRADE_SPEC);
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", work, "-c", "user.email=t@t", "-c", "user.name=t", ...args], { encoding: "utf8" });
  git("init", "-q", "-b", "main");
  git("add", "tandem.yaml");
  git("commit", "-q", "-m", "one");
  const commit = git("rev-parse", "HEAD").trim();
  expect((await t.api("POST", "/api/v1/projects/grade/specs", { source: GRADE_SPEC, workspace: work })).status).toBe(
    201,
  );
  expect((await t.api("PUT", "/api/v1/projects/grade/secrets/GIT_WEBHOOK_SECRET", { value: secret })).status).toBe(200);
  const body = JSON.stringify({ ref: "refs/heads/main", after: commit, repository: { full_name: "acme/grade" } });
  const res = await fetch(`${t.url}/api/v1/hooks/git?project=grade`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
    body,
  });
  expect(res.status).toBe(200);
  const fired = (await res.json()) as { runs: Array<{ pipeline: string; run_id: string | null }> };
  const runId = fired.runs.find((r) => r.pipeline === "ci")!.run_id!;
  await t.server.opened.services.pipelines.settled(runId);
  return { runId, commit };
}
