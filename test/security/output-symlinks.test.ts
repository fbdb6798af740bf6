/**
 * Step outputs that are symlinks, as an attacker plants them. A sandboxed step cannot read the
 * server's home, but it can name it: it replaces its output (a file or a directory) with a symlink
 * into the home, and the server, which collects outputs outside the sandbox, would store what the
 * link points at. The next step then reads it as an input. Real server over HTTP, SQLite.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { applySpec, runLogs, runPipeline } from "./pipeline-http.js";

type How = "file" | "dir" | "inside" | "parent" | "metrics";

function spec(home: string, how: How): string {
  const plant = {
    file: `ln -sf "${home}/admin.token" "$TANDEM_OUTPUT_OUT"`,
    dir: `rm -rf "$TANDEM_OUTPUT_OUT" && ln -s "${home}" "$TANDEM_OUTPUT_OUT"`,
    inside: `ln -s "${home}/admin.token" "$TANDEM_OUTPUT_OUT/token" && ln -s "${home}" "$TANDEM_OUTPUT_OUT/home" && echo ok > "$TANDEM_OUTPUT_OUT/real"`,
    parent: `out="$(dirname "$TANDEM_OUTPUT_OUT")" && rm -rf "$out" && ln -s "${home}" "$out"`,
    // The server parses metrics.json: a parse error would quote the token.
    metrics: `ln -s "${home}/admin.token" metrics.json && echo x > "$TANDEM_OUTPUT_OUT"`,
  }[how];
  const kind = how === "dir" || how === "inside" ? "dir" : "file";
  return `project: links
pipelines:
  steal:
    steps:
      plant:
        run: |
          ${plant}
        outputs: { out: ${kind} }${how === "metrics" ? "\n        metrics: metrics.json" : ""}
      show:
        needs: [plant]
        inputs: { got: "\${{ steps.plant.outputs.out }}" }
        run: |
          find "$TANDEM_INPUT_GOT" -type f -exec cat {} + || cat "$TANDEM_INPUT_GOT"
`;
}

/** Applies `source`, runs its pipeline `steal`, and checks the log never shows the admin token. */
async function steal(t: TestServer, source: string, workspace: string) {
  const adminToken = readFileSync(join(t.home, "admin.token"), "utf8").trim();
  await applySpec(t, "links", source, workspace);
  const run = await runPipeline(t, "links", "steal");
  const logs = await runLogs(t, "links", run.id);
  expect(logs).not.toContain(adminToken);
  return { run, logs };
}

describe("a step's output cannot be a link to the server's files", () => {
  let t: TestServer;
  const dirs: string[] = [];
  afterAll(async () => {
    await t?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const how of ["file", "dir", "inside", "parent", "metrics"] as const) {
    it(`refuses ${how === "inside" ? "links inside an output" : how === "metrics" ? "a metrics file that is a link" : `an output whose ${how} is a link`} into the home`, async () => {
      t ??= await startTestServer();
      const workspace = mkdtempSync(join(tmpdir(), "trust-links-"));
      dirs.push(workspace);
      const { run, logs } = await steal(t, spec(t.home, how), workspace);
      const plant = run.steps.find((s) => s.name === "plant")!;
      if (how === "inside") {
        // Links inside an output are left out; the output's real files are kept.
        expect(plant.status, logs).toBe("succeeded");
        expect(logs).toContain("ok");
      } else {
        expect(plant.status, logs).toBe("failed");
        expect(plant.error).toMatch(/symbolic link/);
      }
    });
  }
});

describe("a project folder's paths cannot lead the server out of it", () => {
  let t: TestServer;
  const dirs: string[] = [];
  afterAll(async () => {
    await t?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("refuses a path input that a step turned into a link to the server's files", async () => {
    t = await startTestServer();
    const workspace = mkdtempSync(join(tmpdir(), "trust-links-"));
    dirs.push(workspace);
    // Steps run with the project folder writable: the first plants the link, the second names it.
    const { run, logs } = await steal(
      t,
      `project: links
pipelines:
  steal:
    steps:
      plant:
        run: ln -s "${t.home}/admin.token" "$TANDEM_WORKSPACE/evil"
      show:
        needs: [plant]
        inputs: { got: evil }
        run: cat "\${{ inputs.got }}"
`,
      workspace,
    );
    const show = run.steps.find((s) => s.name === "show")!;
    expect(show.status, logs).toBe("failed");
    expect(show.error).toMatch(/evil.*symbolic link.*leaves the project folder/);
  });

  it("refuses a project folder that holds the server's home", async () => {
    const { run, logs } = await steal(
      t,
      `project: links
pipelines:
  steal:
    steps:
      show:
        inputs: { got: admin.token }
        run: cat "\${{ inputs.got }}"
`,
      t.home,
    );
    expect(run.steps[0]!.status, logs).toBe("failed");
    expect(run.steps[0]!.error).toMatch(/server's own files/);
  });
});
