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

/** A run a data trigger started, with the ids its log line carries. */
export interface DataTriggerRun {
  project: string;
  dataset: string;
  pipeline: string;
  run_id: string;
}

/**
 * One pass of the `data` trigger: each new dataset version fires `data: NAME` triggers once (the
 * idempotency key is the version), whichever server sees it first. Returns how many versions it
 * read; the runs it started are pushed onto `started`, for the loop's log.
 */
export async function dataTriggerTick(services: Services, started: DataTriggerRun[] = []): Promise<number> {
  const triggers = services.pipelineTriggers;
  if (!triggers) return 0;
  return services.data.consumeEvents(DATA_TRIGGER_CONSUMER, async (e) => {
    const dataset = `${e.name}@${e.version}`;
    const fired = await triggers.fire(
      "data",
      e.project,
      e.name,
      { dataset, version: e.version },
      `dataset:${e.project}/${dataset}`,
    );
    for (const f of fired)
      if (f.runId) started.push({ project: e.project, dataset, pipeline: f.pipeline, run_id: f.runId });
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
      tick: async () => {
        const started: DataTriggerRun[] = [];
        await dataTriggerTick(services, started);
        return started;
      },
      // One line per run with its ids, like the schedule and git triggers' "trigger started a run".
      report: (started, log) => {
        for (const run of started) log.info({ trigger: "data", ...run }, "trigger started a run");
      },
    }),
  );
};
