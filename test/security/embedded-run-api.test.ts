/**
 * The API an embedded `tandem run` gives its steps (TANDEM_URL on loopback) as an attacker in a step
 * uses it. That app is built only when a step first connects (TandemApi.listenOnLoopback), so this
 * checks the lazily built app keeps the one guard: the run's token reads its own project and nothing
 * else; no token, a made-up token and a user-admin route are refused. It has every area, also those
 * the run's own app leaves out (portal, catalog).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const BIN = join(process.cwd(), "bin", "tandem.js");

/** GETs `path` with `token` (none when empty) and prints `<label>: <status>`. */
const probe = (label: string, path: string, token: string) =>
  `node -e 'fetch(process.env.TANDEM_URL + "${path}", { headers: ${token ? `{ authorization: "Bearer " + ${token} }` : "{}"} }).then((r) => console.log("${label}: " + r.status))'`;

const SPEC = `project: acme
pipelines:
  probe:
    steps:
      call:
        run: |
          ${probe("own project", "/api/v1/projects/acme/pipeline-runs", "process.env.TANDEM_TOKEN")}
          ${probe("other project", "/api/v1/projects/other/pipeline-runs", "process.env.TANDEM_TOKEN")}
          ${probe("users", "/api/v1/users", "process.env.TANDEM_TOKEN")}
          ${probe("no token", "/api/v1/projects/acme/pipeline-runs", "")}
          ${probe("made-up token", "/api/v1/projects/acme/pipeline-runs", '"tdm_made_up"')}
          ${probe("maturity", "/api/v1/projects/acme/maturity", "process.env.TANDEM_TOKEN")}
          ${probe("catalog", "/api/v1/catalog/backstage", "process.env.TANDEM_TOKEN")}
`;

describe("embedded tandem run: the steps' API on loopback", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-embedded-api-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the run's token its own project only, and refuses no token and a made-up one", () => {
    writeFileSync(join(dir, "tandem.yaml"), SPEC);
    const env = { ...process.env, TANDEM_HOME: join(dir, "home"), TANDEM_URL: "", TANDEM_TOKEN: "", NO_COLOR: "1" };
    const tandem = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: "utf8" });
    const run = tandem(["run", "probe"]);
    expect(run.status, run.stderr).toBe(0);
    const runs = JSON.parse(tandem(["runs", "ls", "--project", "acme", "--json"]).stdout) as Array<{ id: string }>;
    expect(runs).toHaveLength(1);
    const id = runs[0]!.id;
    const logs = tandem(["runs", "logs", id, "--project", "acme"]);
    expect(logs.status, logs.stderr).toBe(0);
    expect(logs.stdout).toContain("[call] own project: 200");
    expect(logs.stdout).toContain("[call] other project: 403");
    expect(logs.stdout).toContain("[call] users: 403");
    expect(logs.stdout).toContain("[call] no token: 401");
    expect(logs.stdout).toContain("[call] made-up token: 401");
    // Areas the run itself leaves unwired (portal, catalog: api-scopes.ts) are wired for the steps' app.
    expect(logs.stdout).toContain("[call] maturity: 200");
    expect(logs.stdout).toContain("[call] catalog: 200");
  });
});
