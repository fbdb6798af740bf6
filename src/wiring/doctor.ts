/**
 * `tandem doctor`'s probes: each opens one configured implementation the way the server would and
 * says whether it works, or what to do. They live with the wiring because they meet the
 * implementations (the SQL store, the artifact store, the sandbox); the command only prints them.
 *
 * Nothing here changes the installation: the store is opened without migrating, a missing SQLite
 * file is not created, and the artifact probe removes the one blob it writes.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, statfsSync, statSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { sql, type Kysely } from "kysely";
import type { Config } from "../config.js";
import { sandboxFor } from "../executors/local/sandbox.js";
import { slurmProblem } from "../executors/slurm/slurm-cli.js";
import { openArtifactStore } from "../main.js";
import { WEB_DIST } from "../server/web-ui.js";
import { pendingMigrations } from "../stores/metadata/migrator.js";
import { SqlMetadataStore } from "../stores/metadata/sql-metadata-store.js";
import { passwordlessPostgres, PASSWORDLESS_STORE } from "../stores/metadata/postgres-exposure.js";

export interface DoctorCheck {
  check: string;
  ok: boolean;
  /** What was found when ok; what to do when not. */
  detail: string;
}

export interface DoctorOptions {
  /** Free space below this on the home's file system is a problem (default 1 GiB). */
  minFreeBytes?: number;
  /** Where the built web UI is looked for (default the package's web/dist). */
  webDist?: string;
}

const GiB = 1024 ** 3;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function where(config: Config): string {
  return config.database.kind === "sqlite" ? config.database.file : "PostgreSQL (TANDEM_DATABASE_URL)";
}

/** The store answers a query, and how many of this version's migrations it lacks. */
async function storeChecks(config: Config): Promise<DoctorCheck[]> {
  const db = config.database;
  if (db.kind === "sqlite" && db.file !== ":memory:" && !existsSync(db.file)) {
    return [
      {
        check: "store",
        ok: true,
        detail: `no database at ${db.file} yet: the first tandem command or tandem server creates it`,
      },
    ];
  }
  let store: SqlMetadataStore;
  try {
    store = await SqlMetadataStore.create({ database: db, migrate: false, poolSize: 1 });
  } catch (error) {
    return [{ check: "store", ok: false, detail: `cannot open ${where(config)}: ${message(error)}` }];
  }
  try {
    try {
      await sql`select 1`.execute(store.db);
    } catch (error) {
      return [{ check: "store", ok: false, detail: `${where(config)} does not answer: ${message(error)}` }];
    }
    const checks: DoctorCheck[] = [{ check: "store", ok: true, detail: `${where(config)} answers` }];
    const pending = await pendingMigrations(store.db as unknown as Kysely<unknown>, store.dialect);
    checks.push(
      pending.length === 0
        ? { check: "migrations", ok: true, detail: "every migration of this version is applied" }
        : {
            check: "migrations",
            ok: false,
            detail:
              `${pending.length} pending (${pending.slice(0, 3).join(", ")}${pending.length > 3 ? ", …" : ""}): ` +
              "back up the store, then start tandem server once to apply them (docs/guides/operations.md)",
          },
    );
    if (db.kind === "postgres" && (await passwordlessPostgres(db.url)))
      checks.push({ check: "store access", ok: false, detail: PASSWORDLESS_STORE });
    return checks;
  } catch (error) {
    return [{ check: "migrations", ok: false, detail: `cannot read the migration table: ${message(error)}` }];
  } finally {
    await store.close();
  }
}

async function artifactCheck(config: Config): Promise<DoctorCheck> {
  const a = config.artifacts;
  const label = a.kind === "fs" ? a.root : `s3://${a.bucket}/${a.prefix}`;
  if (a.kind === "fs" && !existsSync(a.root)) {
    // Not created yet: the first write creates it, so its nearest existing parent must be writable.
    const parent = existingAncestor(a.root);
    try {
      if (!statSync(parent).isDirectory()) throw new Error("not a directory");
      accessSync(parent, constants.W_OK);
      return { check: "artifacts", ok: true, detail: `${label} does not exist yet; ${parent} is writable` };
    } catch {
      return {
        check: "artifacts",
        ok: false,
        detail: `cannot create ${label}: ${parent} is not a writable directory; point TANDEM_ARTIFACTS elsewhere`,
      };
    }
  }
  try {
    const store = await openArtifactStore(config);
    // Random bytes: no other object can share the probe's content address, so deleting it is safe.
    const blob = await store.putBlob(`tandem doctor ${randomBytes(16).toString("hex")}\n`);
    await store.deleteBlob(blob.sha256);
    return { check: "artifacts", ok: true, detail: `${label} is writable` };
  } catch (error) {
    const fix =
      a.kind === "fs"
        ? "make the directory writable by this user, or point TANDEM_ARTIFACTS elsewhere"
        : "check the bucket, TANDEM_S3_ENDPOINT and the AWS_* credentials";
    return { check: "artifacts", ok: false, detail: `cannot write to ${label}: ${message(error)}; ${fix}` };
  }
}

function executorCheck(config: Config): DoctorCheck {
  try {
    const sandbox = sandboxFor(config.stepSandbox);
    if (sandbox.isolated) return { check: "executors", ok: true, detail: `local: steps isolated with ${sandbox.how}` };
    const shared = config.database.kind === "postgres";
    return {
      check: "executors",
      ok: !shared,
      detail:
        `local: steps are not isolated (${sandbox.reason}): install bubblewrap (apt-get install bubblewrap)` +
        (shared ? "; a shared server on PostgreSQL refuses to start without it" : "; fine for one person"),
    };
  } catch (error) {
    return { check: "executors", ok: false, detail: `local: ${message(error)}` };
  }
}

const onPath = (command: string) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, command)));

/**
 * Slurm, when this server offers it (sbatch on PATH, as wiring/executors.ts decides). A cluster that
 * does not answer needs fixing only when steps default to it (TANDEM_EXECUTOR=slurm); otherwise
 * Slurm client tools on a workstation are no reason to fail, and the line says what a step asking
 * for Slurm would meet.
 */
async function slurmCheck(config: Config): Promise<DoctorCheck | null> {
  const isDefault = config.executors.defaultExecutor === "slurm";
  if (!onPath("sbatch") && !isDefault) return null;
  const problem = await slurmProblem();
  if (!problem) return { check: "executors", ok: true, detail: "slurm: sinfo reaches the controller" };
  return isDefault
    ? {
        check: "executors",
        ok: false,
        detail: `slurm: ${problem}: start slurmctld or point the Slurm clients at it (TANDEM_EXECUTOR=slurm sends every step there)`,
      }
    : {
        check: "executors",
        ok: true,
        detail: `slurm: not usable (${problem.split("\n")[0]}); only steps with executor: slurm need it`,
      };
}

/** Kubernetes, when steps default to it: can this server list Jobs in its namespace? */
async function kubernetesCheck(config: Config): Promise<DoctorCheck | null> {
  if (config.executors.defaultExecutor !== "kubernetes") return null;
  const namespace = config.executors.kubernetes.namespace;
  try {
    // Loaded only here: the Kubernetes client is large, and most installations never need it.
    const { KubeApi } = await import("../executors/kubernetes/kube-api.js");
    await Promise.race([
      KubeApi.fromDefault().listJobs(namespace, "app.kubernetes.io/managed-by=tandem"),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no answer in 10 s")), 10_000).unref()),
    ]);
    return { check: "executors", ok: true, detail: `kubernetes: Jobs can be listed in namespace ${namespace}` };
  } catch (error) {
    return {
      check: "executors",
      ok: false,
      detail:
        `kubernetes: cannot list Jobs in namespace ${namespace}: ${message(error)}; check KUBECONFIG (or the pod's ` +
        "service account) and the Role in deploy/base/executor-rbac.yaml",
    };
  }
}

function webCheck(webDist: string): DoctorCheck {
  return existsSync(join(webDist, "index.html"))
    ? { check: "web UI", ok: true, detail: "built" }
    : { check: "web UI", ok: false, detail: `not built (no ${join(webDist, "index.html")}): run npm run build:web` };
}

export function pythonCheck(config: Config): DoctorCheck {
  const python = config.mlflowServe.python;
  const res = spawnSync(python, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (res.status === 0) {
    return { check: "python", ok: true, detail: `${(res.stdout || res.stderr).trim()} (${python})` };
  }
  return {
    check: "python",
    ok: false,
    detail: `${python} not found: the Python examples and MLflow models need Python 3 (apt-get install python3, or set TANDEM_PYTHON)`,
  };
}

function existingAncestor(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function diskCheck(config: Config, minFree: number): DoctorCheck {
  const dir = existingAncestor(config.home);
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const shown = `${(free / GiB).toFixed(1)} GiB free under ${dir}`;
  return free >= minFree
    ? { check: "disk", ok: true, detail: shown }
    : {
        check: "disk",
        ok: false,
        detail: `${shown}, under ${(minFree / GiB).toFixed(1)} GiB: free space, or move TANDEM_HOME and TANDEM_ARTIFACTS`,
      };
}

/** Every check, in the order an operator fixes them. */
export async function runDoctor(config: Config, options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  return [
    ...(await storeChecks(config)),
    await artifactCheck(config),
    executorCheck(config),
    ...[await slurmCheck(config), await kubernetesCheck(config)].filter((c): c is DoctorCheck => c !== null),
    webCheck(options.webDist ?? WEB_DIST),
    pythonCheck(config),
    diskCheck(config, options.minFreeBytes ?? GiB),
  ];
}
