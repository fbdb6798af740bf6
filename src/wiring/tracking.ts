/** The tracking area: experiments, runs, metrics and run artifacts (MLflow-compatible). */
import { TrackingArtifacts } from "../core/tracking/artifacts.js";
import { TrackingService } from "../core/tracking/service.js";
import { SqlTrackingStore } from "../stores/metadata/tracking-store.js";
import type { Wiring } from "./kit.js";

declare module "../server/services.js" {
  interface Services {
    tracking: TrackingService;
    /** Run artifacts and the garbage collector; other areas add blob reference checks to it. */
    trackingArtifacts: TrackingArtifacts;
  }
}

export const wireTracking: Wiring = ({ sql, services }) => {
  const store = new SqlTrackingStore(sql);
  services.tracking = new TrackingService({ metadata: services.metadata, audit: services.audit, store });
  // Logging advances the external audit head after replying; let it catch up before the process ends.
  services.closers.push(() => services.tracking.flushAuditHead());
  services.trackingArtifacts = new TrackingArtifacts({
    metadata: services.metadata,
    audit: services.audit,
    store,
    artifacts: services.artifacts,
  });
};
