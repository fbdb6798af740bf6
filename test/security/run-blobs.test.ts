/**
 * The blobs route remote steps use (`tandem step-agent`): only the run's own token, only blobs of
 * that run's inputs and outputs, and uploads only while the run lives. The attacks: another run's
 * blob with a valid run token, the admin's token, another run's URL, an upload after the run ended.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const spec = (dir: string) => `pipelines:
  other:
    steps:
      hidden:
        run: echo "another run's data" > "$TANDEM_OUTPUT_DATA"
        outputs: { data: file }
  probe:
    steps:
      make:
        run: echo alpha > "$TANDEM_OUTPUT_DATA"
        outputs: { data: file }
      hold:
        run: |
          cat \${{ inputs.data }} > /dev/null
          printf %s "$TANDEM_TOKEN" > ${dir}/token
          for i in $(seq 1 600); do [ -f ${dir}/release ] && exit 0; sleep 0.1; done
          exit 1
        inputs: { data: "\${{ steps.make.outputs.data }}" }
`;

interface RunJson {
  id: string;
  status: string;
  steps: Array<{ name: string; outputs: Record<string, string> }>;
}

describe("a run's blobs, for its remote steps", () => {
  const servers: TestServer[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const store of STORE_KINDS) {
    const run = store === "postgres" && !postgresAvailable() ? it.skip : it;
    run(`answer only the run's token, for its own inputs and outputs [${store}]`, { timeout: 60_000 }, async () => {
      const t = await startTestServer({ store });
      servers.push(t);
      const dir = mkdtempSync(join(tmpdir(), "slurm-blobs-"));
      dirs.push(dir);
      expect((await t.api("POST", "/api/v1/projects/default/specs", { source: spec(dir) })).status).toBeLessThan(300);
      const settle = async (id: string) => {
        for (;;) {
          const r = (await t.api<RunJson>("GET", `/api/v1/projects/default/pipeline-runs/${id}`)).body;
          if (["succeeded", "failed", "cancelled"].includes(r.status)) return r;
          await new Promise((res) => setTimeout(res, 100));
        }
      };
      const start = async (p: string) =>
        (await t.api<{ id: string }>("POST", `/api/v1/projects/default/pipelines/${p}/runs`, {})).body.id;
      const other = await settle(await start("other"));
      const foreign = other.steps[0]!.outputs.data!;

      const id = await start("probe");
      for (let i = 0; i < 300 && !existsSync(join(dir, "token")); i++) await new Promise((r) => setTimeout(r, 100));
      const token = readFileSync(join(dir, "token"), "utf8");
      const made = (await t.api<RunJson>("GET", `/api/v1/projects/default/pipeline-runs/${id}`)).body.steps.find(
        (s) => s.name === "make",
      )!.outputs.data!;
      const blob = (runId: string, sha: string, as: string) =>
        fetch(`${t.url}/api/v1/projects/default/pipeline-runs/${runId}/blobs/${sha}`, {
          headers: { authorization: `Bearer ${as}` },
        });
      const upload = (as: string) =>
        fetch(`${t.url}/api/v1/projects/default/pipeline-runs/${id}/blobs`, {
          method: "POST",
          headers: { authorization: `Bearer ${as}`, "content-type": "application/octet-stream" },
          body: "output bytes",
        });

      const manifest = await blob(id, made, token);
      expect(manifest.status).toBe(200);
      const entry = (JSON.parse(await manifest.text()) as { entries: Array<{ sha256: string }> }).entries[0]!;
      const file = await blob(id, entry.sha256, token);
      expect(await file.text()).toBe("alpha\n");
      const uploaded = await upload(token);
      expect(uploaded.status).toBe(200);

      const stolen = await blob(id, foreign, token);
      expect(stolen.status).toBe(403);
      expect(await stolen.text()).toMatch(/is not an input or output of run/);
      expect((await blob(other.id, foreign, token)).status).toBe(403);
      expect((await blob(id, made, t.adminToken)).status).toBe(403);

      writeFileSync(join(dir, "release"), "");
      expect((await settle(id)).status).toBe("succeeded");
      expect([401, 403]).toContain((await upload(token)).status);
    });
  }
});
