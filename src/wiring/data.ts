/** The data area: datasets, versions, profiles, validation (see src/core/data/service.ts). */
import { join } from "node:path";
import { DataService } from "../core/data/service.js";
import { LocalBlobFiles } from "../stores/artifacts/blob-files.js";
import { SqlDataStore } from "../stores/metadata/data-store.js";
import type { Wiring } from "./kit.js";

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

export const wireData: Wiring = ({ config, sql, services }) => {
  services.data = new DataService({
    metadata: services.metadata,
    audit: services.audit,
    store: new SqlDataStore(sql),
    artifacts: services.artifacts,
    blobFiles: new LocalBlobFiles(services.artifacts, join(config.home, "tmp")),
  });
};
