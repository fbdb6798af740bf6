/** Applies a spec and runs a pipeline through a real server's HTTP API, as a given token. */
import type { TestServer } from "../helpers/server.js";

export interface RunWire {
  id: string;
  status: string;
  error: string | null;
  steps: Array<{ name: string; status: string; error: string | null; pid?: number | null }>;
}

export async function applySpec(
  t: Pick<TestServer, "api">,
  project: string,
  source: string,
  workspace: string,
  token?: string,
) {
  const applied = await t.api("POST", `/api/v1/projects/${project}/specs`, { source, workspace }, token);
  if (applied.status !== 201) throw new Error(`apply: ${applied.status} ${JSON.stringify(applied.body)}`);
}

/** Starts a run and waits until it ends. */
export async function runPipeline(
  t: Pick<TestServer, "api">,
  project: string,
  pipeline: string,
  token?: string,
  timeoutMs = 60_000,
): Promise<RunWire> {
  const started = await t.api<RunWire>("POST", `/api/v1/projects/${project}/pipelines/${pipeline}/runs`, {}, token);
  if (started.status !== 202) throw new Error(`run: ${started.status} ${JSON.stringify(started.body)}`);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = await t.api<RunWire>("GET", `/api/v1/projects/${project}/pipeline-runs/${started.body.id}`);
    if (!["queued", "running"].includes(run.body.status)) return run.body;
    if (Date.now() > until) throw new Error(`run ${started.body.id} did not end: ${JSON.stringify(run.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every log line of a run, as `runs logs` shows them, read with `token` (default admin). */
export async function runLogs(
  t: Pick<TestServer, "api">,
  project: string,
  runId: string,
  token?: string,
): Promise<string> {
  const logs = await t.api<{ lines: Array<{ text: string }> }>(
    "GET",
    `/api/v1/projects/${project}/pipeline-runs/${runId}/logs?limit=10000`,
    undefined,
    token,
  );
  if (logs.status !== 200) throw new Error(`logs: ${logs.status} ${JSON.stringify(logs.body)}`);
  return logs.body.lines.map((l) => l.text).join("\n");
}
