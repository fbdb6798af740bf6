/**
 * The live pipeline-run stream over HTTP: authenticated by a session cookie (as a browser's
 * EventSource is), `run` first, the step's log lines, then `end` with the final status.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

interface SseEvent {
  event: string;
  data: unknown;
}

async function readEvents(res: Response): Promise<SseEvent[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("event:"))
    .map((block) => {
      const [head, data] = block.split("\n");
      return { event: head!.slice("event: ".length), data: JSON.parse(data!.slice("data: ".length)) as unknown };
    });
}

describe("pipeline run events (SSE)", () => {
  let server: TestServer;
  let workspace: string;
  let cookie: string;

  beforeAll(async () => {
    server = await startTestServer();
    workspace = mkdtempSync(join(tmpdir(), "tandem-sse-"));
    const source = `project: default
pipelines:
  hello:
    steps:
      greet:
        run: |
          echo "hello from the step"
`;
    expect(
      (await server.api("POST", "/api/v1/projects/default/specs", { source, file: "tandem.yaml", workspace })).status,
    ).toBe(201);
    const signIn = await fetch(`${server.url}/api/v1/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it("streams run, log and end events to a session cookie until the run is over", async () => {
    const started = await server.api<{ id: string }>("POST", "/api/v1/projects/default/pipelines/hello/runs", {});
    expect(started.status).toBe(202);
    const res = await fetch(`${server.url}/api/v1/projects/default/pipeline-runs/${started.body.id}/events`, {
      headers: { cookie },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readEvents(res);
    expect(events[0]!.event).toBe("run");
    expect(events.at(-1)).toEqual({ event: "end", data: { status: "succeeded" } });
    const logText = events
      .filter((e) => e.event === "log")
      .flatMap((e) => (e.data as { lines: Array<{ text: string }> }).lines.map((l) => l.text))
      .join("");
    expect(logText).toContain("hello from the step");
    const lastRun = events.filter((e) => e.event === "run").at(-1)!.data as {
      status: string;
      steps: Array<{ status: string }>;
    };
    expect(lastRun.status).toBe("succeeded");
    expect(lastRun.steps.map((s) => s.status)).toEqual(["succeeded"]);
  });

  it("resumes after a log sequence number without repeating lines", async () => {
    const runs = await server.api<{ runs: Array<{ id: string }> }>("GET", "/api/v1/projects/default/pipeline-runs");
    const id = runs.body.runs[0]!.id;
    const all = await readEvents(
      await fetch(`${server.url}/api/v1/projects/default/pipeline-runs/${id}/events`, { headers: { cookie } }),
    );
    const seqs = all
      .filter((e) => e.event === "log")
      .flatMap((e) => (e.data as { lines: Array<{ seq: number }> }).lines.map((l) => l.seq));
    const last = seqs.at(-1)!;
    const rest = await readEvents(
      await fetch(`${server.url}/api/v1/projects/default/pipeline-runs/${id}/events?after=${last}`, {
        headers: { cookie },
      }),
    );
    expect(rest.filter((e) => e.event === "log")).toEqual([]);
    expect(rest.at(-1)!.event).toBe("end");
  });

  it("answers JSON errors before streaming: 401 without credentials, 404 for an unknown run", async () => {
    const anonymous = await fetch(`${server.url}/api/v1/projects/default/pipeline-runs/nope/events`);
    expect(anonymous.status).toBe(401);
    const missing = await fetch(`${server.url}/api/v1/projects/default/pipeline-runs/nope/events`, {
      headers: { cookie },
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});
