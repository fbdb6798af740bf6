/**
 * Asks the interpreters a local step would run for their version (`node --version`,
 * `python3 --version`), with the step's PATH, for the environment digest. A PATH a step sets is the
 * project's: what it finds there runs in the steps' sandbox (git-sandbox.ts's hostSandbox).
 */
import { execFile } from "node:child_process";
import type { EnvironmentProbe } from "../../core/pipelines/ports.js";
import type { HostWrap } from "./git-sandbox.js";

/** The interpreters whose versions are part of every step's environment. */
export const INTERPRETERS = ["node", "python3"] as const;

async function version(command: string, path: string, wrap: HostWrap | null): Promise<string | null> {
  const argv = wrap ? await wrap([command, "--version"]) : [command, "--version"];
  return new Promise((resolve) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      // Only PATH and HOME: a step's own variables must not change what the probe answers.
      { env: { PATH: path, HOME: process.env.HOME ?? "/" }, timeout: 10_000, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error) return resolve(null);
        // Python 2 printed its version on stderr.
        const text = `${stdout}${stderr}`.trim().split("\n")[0]?.trim();
        resolve(text ? text.slice(0, 200) : null);
      },
    );
  });
}

async function probe(searched: string, wrap: HostWrap | null = null): Promise<Record<string, string | null>> {
  // Together: a version manager's shim (pyenv) can take seconds to answer on a busy machine.
  const versions = await Promise.all(INTERPRETERS.map((name) => version(name, searched, wrap)));
  return Object.fromEntries(INTERPRETERS.map((name, i) => [name, versions[i] ?? null]));
}

/** Probes started ahead of their run, by PATH; each is taken by the first run that asks. */
const early = new Map<string, Promise<Record<string, string | null>>>();

/**
 * Starts probing this process's PATH now, for the run this process is about to start: an embedded
 * `tandem run` calls it before it loads its services, so the answer (pyenv's python3 shim took
 * 0.2-1.6 s here, and every step's cache key waits for it) comes while Node loads modules instead
 * of after. The first run then takes this answer; later runs probe again.
 */
export function probeInterpretersEarly(): void {
  const searched = process.env.PATH ?? "/usr/bin:/bin";
  if (!early.has(searched)) early.set(searched, probe(searched));
}

export class LocalEnvironmentProbe implements EnvironmentProbe {
  /**
   * `stepPaths`: how the interpreters a step's own PATH finds are run (the steps' sandbox; default:
   * as is). This process's PATH is the operator's, and is probed as is.
   */
  constructor(private readonly stepPaths: HostWrap | null = null) {}

  interpreters(path: string | null): Promise<Record<string, string | null>> {
    if (path !== null) return probe(path, this.stepPaths);
    const searched = process.env.PATH ?? "/usr/bin:/bin";
    const started = early.get(searched);
    if (started) {
      early.delete(searched);
      return started;
    }
    return probe(searched);
  }
}
