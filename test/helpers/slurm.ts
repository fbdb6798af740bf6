/**
 * The local Slurm cluster (scripts/slurm-local.sh) for the Slurm executor's tests. `slurmCluster()`
 * says why it cannot be used here (then the tests skip, printing the reason); with
 * TANDEM_TEST_SLURM=required (CI, which starts the cluster) a missing cluster fails instead.
 * The step agent runs the compiled dist/, so it must be current (npm run build:dist).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const DEFAULT_CONF = "/tmp/tandem-slurm/slurm.conf";

function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** null when the cluster answers (SLURM_CONF is set for this process); else why not. */
export function slurmCluster(): string | null {
  const why = ((): string | null => {
    const conf = process.env.SLURM_CONF ?? DEFAULT_CONF;
    if (!existsSync(conf)) return `no Slurm cluster here (${conf} is missing: run scripts/slurm-local.sh)`;
    process.env.SLURM_CONF = conf;
    if (process.getuid?.() !== 0) return "the Slurm tests need root (sbatch --uid for the step user)";
    const sinfo = spawnSync("sinfo", ["-h", "-N", "-o", "%T"], { encoding: "utf8", timeout: 10_000 });
    if (sinfo.status !== 0) return `sinfo failed: ${(sinfo.stderr || sinfo.error?.message || "").trim()}`;
    if (!/^(idle|mixed|allocated)/m.test(sinfo.stdout)) return `the Slurm node is ${sinfo.stdout.trim()}`;
    return null;
  })();
  if (why && process.env.TANDEM_TEST_SLURM === "required") throw new Error(`TANDEM_TEST_SLURM=required: ${why}`);
  if (!why) {
    const built = join(ROOT, "dist", ".built");
    if (!existsSync(built) || statSync(built).mtimeMs < newestUnder(join(ROOT, "src")))
      throw new Error("dist/ is older than src/: the step agent on the node runs dist/ (npm run build:dist)");
  }
  return why;
}

/** `sacct -P` fields of jobs with this name (all of them: a duplicate submission shows as two rows). */
export function sacctByName(name: string, fields: string): string[][] {
  const out = spawnSync("sacct", ["-P", "-n", "-X", "-S", "now-1hour", `--name=${name}`, "-o", fields], {
    encoding: "utf8",
  });
  return out.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("|"));
}
