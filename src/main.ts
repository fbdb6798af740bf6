/**
 * The composition root: the one place where implementations meet. It opens the stores named by the
 * configuration, builds every area's services on top of them, and bootstraps an empty store.
 *
 * Each area wires itself in `src/wiring/<area>.ts` (one function), listed in AREA_WIRINGS below, so
 * areas never edit each other's wiring.
 */
import { join } from "node:path";
import pino, { type Logger as PinoLogger } from "pino";
import type { Config } from "./config.js";
import { AccessService } from "./core/governance/access.js";
import { AuditLog } from "./core/governance/audit.js";
import type { ArtifactStore } from "./core/artifacts/ports.js";
import type { Services } from "./server/services.js";
import type { ClientStateStore } from "./core/data/ports.js";
import type { UserCodeLauncher } from "./core/ports.js";
import { FsArtifactStore } from "./stores/artifacts/fs-artifact-store.js";
import { writeFileAtomic } from "./stores/files/atomic.js";
import { FileClientStateStore } from "./stores/files/client-state-store.js";
import { FileAuditHeadKeeper } from "./stores/files/audit-head-file.js";
import { AddressOutboundGuard } from "./stores/http/outbound-guard.js";
import { SqlAccessStore } from "./stores/metadata/access-store.js";
import { SqlAuditStore } from "./stores/metadata/audit-store.js";
import { SqlMetadataStore } from "./stores/metadata/sql-metadata-store.js";
import type { Wiring } from "./wiring/kit.js";

/**
 * Every area's wiring, in the order they are wired, each loaded when used: an embedded CLI command
 * that needs one area (`tandem data add` needs data alone) does not load the other areas' modules,
 * about 0.45 s of CPU of the 1.0 s such a command took (issue 18).
 */
const AREA_WIRINGS = {
  portal: async () => (await import("./wiring/portal.js")).wirePortal,
  tracking: async () => (await import("./wiring/tracking.js")).wireTracking,
  pipelines: async () => (await import("./wiring/pipelines.js")).wirePipelines,
  serving: async () => (await import("./wiring/serving.js")).wireServing,
  monitoring: async () => (await import("./wiring/monitoring.js")).wireMonitoring,
  registry: async () => (await import("./wiring/registry.js")).wireRegistry,
  data: async () => (await import("./wiring/data.js")).wireData,
  // After serving and pipelines: the LLM gateway runs on serving's runtime and listens for specs.
  llm: async () => (await import("./wiring/llm.js")).wireLlm,
  // Reads every area's services when asked, so it may come last.
  catalog: async () => (await import("./wiring/catalog.js")).wireCatalog,
} satisfies Record<string, () => Promise<Wiring>>;

/** An area of Tandem whose services createServices can wire on their own. */
export type Area = keyof typeof AREA_WIRINGS;

export async function openArtifactStore(config: Config): Promise<ArtifactStore> {
  const a = config.artifacts;
  if (a.kind === "fs") return FsArtifactStore.create({ root: a.root, fsync: a.fsync });
  // Loaded only for an S3 store: the AWS SDK is a few hundred modules a filesystem store never needs.
  const { S3ArtifactStore } = await import("./stores/artifacts/s3-artifact-store.js");
  return S3ArtifactStore.create({
    bucket: a.bucket,
    prefix: a.prefix,
    endpoint: a.endpoint,
    region: a.region,
    accessKeyId: a.accessKeyId,
    secretAccessKey: a.secretAccessKey,
    createBucket: Boolean(a.endpoint),
    spoolDir: join(config.home, "tmp"),
  });
}

/** The CLI's local documents (the data stat cache), kept in the configured home. */
export function openClientState(config: Config): ClientStateStore {
  return FileClientStateStore.create({ dir: config.home });
}

export interface OpenedServices {
  services: Services;
  sql: SqlMetadataStore;
  /** The process's logger, also `services.logger` (the HTTP app logs requests through it). */
  logger: PinoLogger;
  /** The admin token written on this open, when the store was empty. */
  firstAdminToken: string | null;
  /**
   * Wires the areas left out at open (`CreateServicesOptions.areas`), in AREA_WIRINGS order, for an
   * app with every route built later in the same process (the one `tandem run` serves its steps).
   */
  wireEveryArea(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateServicesOptions {
  /** (default: silent) */
  logger?: PinoLogger;
  /**
   * Only these areas' services (default: every area). The core ones (metadata, artifacts, access,
   * audit) are always there; an area whose services another area reads must be listed with it.
   */
  areas?: Area[];
}

/**
 * Services.userCode, its module loaded at the first start of project code: most commands start none,
 * and the sandbox's modules are start-up time they never need (issue 18; cli-startup.test.ts).
 */
function lazyUserCode(config: Config): UserCodeLauncher {
  let launcher: Promise<UserCodeLauncher> | undefined;
  return async (code) => {
    launcher ??= import("./wiring/sandbox-paths.js").then((m) => m.userCodeLauncher(config));
    return (await launcher)(code);
  };
}

export async function createServices(config: Config, options: CreateServicesOptions = {}): Promise<OpenedServices> {
  const logger = options.logger ?? pino({ level: "silent" });
  const sql = await SqlMetadataStore.create({ database: config.database });
  const artifacts = await openArtifactStore(config);
  const audit = new AuditLog(new SqlAuditStore(sql), new FileAuditHeadKeeper(config.auditHeadFile));
  const access = new AccessService(sql, new SqlAccessStore(sql), audit);
  const services: Services = {
    config,
    metadata: sql,
    artifacts,
    access,
    audit,
    outbound: new AddressOutboundGuard(config.outboundAllow),
    userCode: lazyUserCode(config),
    logger,
    closers: [],
    background: [],
  } as unknown as Services;
  const wired = new Set<Area>();
  const wireAreas = async (areas: Area[]) => {
    // Every module first, then the wirings in order: modules that register server extensions when
    // loaded (monitoring) keep their place before those added while wiring, as with static imports.
    const wirings = await Promise.all(areas.map((a) => AREA_WIRINGS[a]()));
    for (const [i, wire] of wirings.entries()) {
      await wire({ config, sql, services });
      wired.add(areas[i]!);
    }
  };
  const allAreas = Object.keys(AREA_WIRINGS) as Area[];
  await wireAreas(allAreas.filter((a) => !options.areas || options.areas.includes(a)));
  let wiringTheRest: Promise<void> | null = null;

  const bootstrapped = await access.bootstrap();
  if (bootstrapped) {
    await writeFileAtomic(join(config.home, "admin.token"), `${bootstrapped.adminToken}\n`, 0o600);
  }
  return {
    services,
    sql,
    logger,
    firstAdminToken: bootstrapped?.adminToken ?? null,
    wireEveryArea() {
      wiringTheRest ??= wireAreas(allAreas.filter((a) => !wired.has(a)));
      return wiringTheRest;
    },
    async close() {
      for (const closer of [...services.closers].reverse()) await closer();
      await sql.close();
    },
  };
}
