/** The data area: datasets, versions, profiles, validation (see src/core/data/service.ts). */
import { join } from "node:path";
import { DataService } from "../core/data/service.js";
import { LocalBlobFiles } from "../stores/artifacts/blob-files.js";
import { SqlDataStore } from "../stores/metadata/data-store.js";
import type { Services } from "../server/services.js";
import type { Wiring } from "./kit.js";
import { everyInterval } from "../server/background.js";

declare module "../server/services.js" {
  interface Services {
    data: DataService;
  }
}

declare module "../core/pipelines/builtins/contract.js" {
  interface BuiltinServices {
    data: DataService;
  }
}

/** The event-feed consumer name of the pipelines' `data` trigger. */
export const DATA_TRIGGER_CONSUMER = "pipelines.data-trigger";

/**
 * One pass of the `data` trigger: each new dataset version fires `data: NAME` triggers once (the
 * idempotency key is the version), whichever server sees it first.
 */
export async function dataTriggerTick(services: Services): Promise<number> {
  const triggers = services.pipelineTriggers;
  if (!triggers) return 0;
  return services.data.consumeEvents(DATA_TRIGGER_CONSUMER, async (e) => {
    await triggers.fire(
      "data",
      e.project,
      e.name,
      { dataset: `${e.name}@${e.version}`, version: e.version },
      `dataset:${e.project}/${e.name}@${e.version}`,
    );
  });
}

export const wireData: Wiring = ({ config, sql, services }) => {
  services.data = new DataService({
    metadata: services.metadata,
    audit: services.audit,
    store: new SqlDataStore(sql),
    artifacts: services.artifacts,
    blobFiles: new LocalBlobFiles(services.artifacts, join(config.home, "tmp")),
  });
  // The feed is a table: versions added by any process (an embedded CLI, another server) are seen.
  services.background.push(
    everyInterval({
      name: "data-trigger",
      intervalMs: 2000,
      immediately: true,
      tick: () => dataTriggerTick(services),
      report: (versions, log) => {
        if (versions > 0) log.info({ versions }, "fired data triggers for new dataset versions");
      },
    }),
  );
};
