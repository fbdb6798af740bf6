/**
 * Statements and round trips to PostgreSQL per pipeline step (issue 22), counted on the wire
 * (../pg-wire-count.ts): `tandem run` as its own process on a fresh PostgreSQL database, a chain of 1
 * step and a chain of 1 + STEPS steps (`true` each); the difference over STEPS is what one more step
 * costs: its state writes (pending, running, done), its tracking run, logs and lease renewals.
 * Counts do not depend on the machine's load. No baseline: the line before the change is in the log.
 *
 *   npm run bench -- pipeline-statements [--steps 10] [--pg-url postgres://…]
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { emitterFor, numberFlag } from "../kit.js";
import { startWireCounter, type WireCounts } from "../pg-wire-count.js";

const STEPS = numberFlag("steps", 10);
const args = process.argv.slice(2);
const PG_URL = args.includes("--pg-url")
  ? args[args.indexOf("--pg-url") + 1]!
  : "postgres://postgres@127.0.0.1:5432/postgres";
const BIN = join(import.meta.dirname, "../../bin/tandem.js");
const emit = emitterFor("pipeline-statements");

function chain(steps: number): string {
  const lines = ["project: bench", "pipelines:", "  chain:", "    steps:"];
  for (let i = 0; i < steps; i++) {
    lines.push(`      s${i}:`);
    if (i > 0) lines.push(`        needs: [s${i - 1}]`);
    lines.push(`        run: "true"`);
  }
  return `${lines.join("\n")}\n`;
}

/** `tandem run` as its own process; async, since the counting proxy lives on this event loop. */
function tandemRun(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "run", ...args], { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`tandem run exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(sql);
  await c.end();
}

/** What `tandem run` of a chain of `steps` says to a fresh database (migrations and bootstrap excluded). */
async function countRun(steps: number): Promise<WireCounts> {
  const name = `tandem_bench_${randomBytes(5).toString("hex")}`;
  await admin(`create database "${name}"`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const counter = await startWireCounter(url.toString());
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-stmts-"));
  try {
    writeFileSync(join(dir, "tandem.yaml"), chain(steps));
    const env = {
      ...process.env,
      TANDEM_HOME: join(dir, ".tandem"),
      TANDEM_DATABASE_URL: counter.url,
      TANDEM_URL: "",
      TANDEM_FROM_SOURCE: "1",
    };
    // A first run migrates, bootstraps and applies the spec: not what is counted.
    await tandemRun(["chain"], dir, env);
    const before = counter.snapshot();
    await tandemRun(["chain", "--no-cache"], dir, env);
    const after = counter.snapshot();
    const byText: Record<string, number> = {};
    for (const [k, v] of Object.entries(after.byText))
      if (v - (before.byText[k] ?? 0)) byText[k] = v - (before.byText[k] ?? 0);
    return {
      statements: after.statements - before.statements,
      roundTrips: after.roundTrips - before.roundTrips,
      transactions: after.transactions - before.transactions,
      byText,
    };
  } finally {
    await counter.stop();
    rmSync(dir, { recursive: true, force: true });
    await admin(`drop database if exists "${name}" with (force)`);
  }
}

const one = await countRun(1);
const many = await countRun(1 + STEPS);
const per = (a: number, b: number) => Number(((b - a) / STEPS).toFixed(2));
const byText: Record<string, number> = {};
for (const [k, v] of Object.entries(many.byText)) {
  const d = per(one.byText[k] ?? 0, v);
  if (d) byText[k] = d;
}
emit(
  "statements per pipeline step, tandem run on PostgreSQL",
  per(one.statements, many.statements),
  null,
  "statements",
  null,
  {
    round_trips: per(one.roundTrips, many.roundTrips),
    transactions: per(one.transactions, many.transactions),
    steps: STEPS,
    one_step_run_statements: one.statements,
    by_text: byText,
  },
);
