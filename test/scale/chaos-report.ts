/**
 * What the chaos test prints when a step of a run did not succeed: the server history (which
 * process was killed and started when, so a lease owner `host:pid:xxxxxx` in a log reads as "b#2"),
 * and for each failed step its record (attempt, exit code, executor, remote job, error, times) and
 * its whole log, system lines included ("taken over from …", "attempt 2 of 1", bwrap's complaints).
 * A CI failure of a race seen once in many runs has to be explained by what it printed.
 */

/** One line per server start and kill, with the time since the test began. */
export class ServerHistory {
  private readonly events: string[] = [];
  /** pid → "a#1", "b#3": the n-th process that played server a or b. */
  private readonly names = new Map<number, string>();
  private readonly starts = new Map<string, number>();

  constructor(private readonly began: number) {}

  started(name: string, pid: number | undefined): void {
    const n = (this.starts.get(name) ?? 0) + 1;
    this.starts.set(name, n);
    if (pid !== undefined) this.names.set(pid, `${name}#${n}`);
    this.note(`started ${name}#${n} (pid ${pid})`);
  }

  killed(pid: number | undefined): void {
    this.note(`kill -9 ${this.nameOf(pid)} (pid ${pid})`);
  }

  note(event: string): void {
    this.events.push(`${since(this.began, Date.now())} ${event}`);
  }

  nameOf(pid: number | undefined): string {
    return (pid !== undefined && this.names.get(pid)) || `pid ${pid}`;
  }

  /** `text` with every lease owner (`host:pid:hex`) followed by the server it was, e.g. `(b#2)`. */
  label(text: string): string {
    return text.replace(/([\w.-]+):(\d+):([0-9a-f]{6})/g, (owner, _h, pid: string) => {
      const name = this.names.get(Number(pid));
      return name ? `${owner} (${name})` : owner;
    });
  }

  lines(): string[] {
    return [...this.events];
  }
}

/** `+12.345s`: a time relative to the start of the test. */
export function since(began: number, at: number | null | undefined): string {
  return at === null || at === undefined ? "-" : `+${((at - began) / 1000).toFixed(3)}s`;
}

export interface StepWire {
  name: string;
  status: string;
  attempt: number;
  executor: string | null;
  remote_job: string | null;
  exit_code: number | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface LogLineWire {
  seq: number;
  step: string;
  stream: string;
  text: string;
  at: number;
}

type Get = <T>(path: string) => Promise<T>;

/**
 * The report on one run's steps that did not succeed (empty when all did): each step's record and
 * its log, lease owners named after the servers of `history`.
 */
export async function failedStepsReport(options: {
  get: Get;
  runPath: string;
  began: number;
  history: ServerHistory;
}): Promise<string> {
  const { get, runPath, began, history } = options;
  const run = await get<{
    id: string;
    pipeline: string;
    status: string;
    error: string | null;
    lease_owner: string | null;
    steps?: StepWire[];
  }>(runPath);
  const failed = (run.steps ?? []).filter((s) => s.status !== "succeeded");
  if (!failed.length) return "";
  const out = [
    `run ${run.pipeline} ${run.id}: ${run.status}${run.error ? ` (${run.error})` : ""}, lease ${history.label(run.lease_owner ?? "none")}`,
  ];
  for (const s of failed) {
    out.push(
      `  step ${s.name}: ${s.status}, attempt ${s.attempt}, ${s.executor ?? "no executor"}` +
        `${s.remote_job ? ` job ${s.remote_job}` : ""}, exit ${s.exit_code ?? "-"}, started ${since(began, s.started_at)}` +
        `, finished ${since(began, s.finished_at)}${s.error ? `, error: ${s.error}` : ""}`,
    );
    const logs = await get<{ lines: LogLineWire[] }>(
      `${runPath}/logs?step=${encodeURIComponent(s.name)}&limit=10000`,
    ).catch((e: Error) => ({ lines: [{ seq: 0, step: s.name, stream: "?", text: `(no log: ${e.message})`, at: 0 }] }));
    for (const l of logs.lines)
      out.push(`    ${since(began, l.at)} [${l.stream}] ${history.label(l.text.replace(/\n$/, ""))}`);
  }
  return out.join("\n");
}
