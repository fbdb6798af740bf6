/** Runs the real `tandem` binary as a child process, in a folder, with a TANDEM_HOME of its own. */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const BIN = resolve(import.meta.dirname, "../../bin/tandem.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function startCli(
  args: string[],
  options: { cwd: string; env: Record<string, string>; input?: string },
): { child: ChildProcess; done: Promise<CliResult>; output(): { stdout: string; stderr: string } } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("TANDEM_")) env[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdin!.end(options.input ?? "");
  const done = new Promise<CliResult>((res) => child.on("close", (code) => res({ code, stdout, stderr })));
  return { child, done, output: () => ({ stdout, stderr }) };
}

export function cli(
  args: string[],
  options: { cwd: string; env: Record<string, string>; input?: string },
): Promise<CliResult> {
  return startCli(args, options).done;
}

/** A copy of examples/<name> in a temp folder, with its own TANDEM_HOME. */
export function exampleCopy(name: string): { dir: string; env: Record<string, string> } {
  const root = mkdtempSync(join(tmpdir(), "tandem-example-"));
  const dir = join(root, name);
  cpSync(resolve(import.meta.dirname, "../../examples", name), dir, {
    recursive: true,
    filter: (src) => !src.includes(".tandem") && !src.endsWith("tandem.lock"),
  });
  return { dir, env: { TANDEM_HOME: join(root, "home"), TANDEM_CONCURRENCY: "2" } };
}
