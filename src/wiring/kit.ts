import type { Config } from "../config.js";
import type { Services } from "../server/services.js";
import type { SqlMetadataStore } from "../stores/metadata/sql-metadata-store.js";

export interface WiringContext {
  config: Config;
  sql: SqlMetadataStore;
  /** Add your area's services to this object; earlier areas' services are already on it. */
  services: Services;
}

/** One area's wiring: builds its stores and services and puts them on `services`. */
export type Wiring = (ctx: WiringContext) => Promise<void> | void;
