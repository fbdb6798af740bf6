/** The tracking area: experiments, runs, metrics and run artifacts (MLflow-compatible). */
import { getManifest } from "../core/artifacts/manifest.js";
import { TrackingArtifacts, type BlobReferenceCheck } from "../core/tracking/artifacts.js";
import { MultipartUploads, multipartUrlKey } from "../core/tracking/multipart.js";
import { TrackingService } from "../core/tracking/service.js";
import type { Services } from "../server/services.js";
import { SqlMultipartUploadStore } from "../stores/metadata/multipart-store.js";
import { SqlTrackingStore } from "../stores/metadata/tracking-store.js";
import type { Wiring } from "./kit.js";
import { loadSecretKey } from "./secret-key.js";

declare module "../server/services.js" {
  interface Services {
    tracking: TrackingService;
    /** Run artifacts and the garbage collector; other areas add blob reference checks to it. */
    trackingArtifacts: TrackingArtifacts;
    /** MLflow's proxied multipart uploads (signed part URLs), open uploads kept in the metadata store. */
    multipartUploads: MultipartUploads;
  }
}

/**
 * Model versions keep their files alive: the collector must not free a blob a version (in any project,
 * registered through any route) still uses. Looked up lazily, so wiring order does not matter; the
 * collector runs rarely, so walking every version is affordable.
 */
function registryReferences(services: Services): BlobReferenceCheck {
  return async (sha256s) => {
    const registry = (services as Partial<Services>).registry;
    const kept = new Set<string>();
    if (!registry) return kept;
    const wanted = new Set(sha256s);
    for (const project of await services.access.listProjects()) {
      for (const v of await registry.searchVersions(project.name, { limit: 1_000_000, offset: 0 })) {
        const files =
          v.artifact.storage === "blob"
            ? [v.artifact.sha256]
            : [
                v.artifact.sha256,
                ...(await getManifest(services.artifacts, v.artifact.sha256)).entries.map((e) => e.sha256),
              ];
        for (const f of files) if (wanted.has(f)) kept.add(f);
      }
    }
    return kept;
  };
}

export const wireTracking: Wiring = async ({ config, sql, services }) => {
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
  services.trackingArtifacts.externalReferenceChecks.push(registryReferences(services));
  const trackingArtifacts = services.trackingArtifacts;
  services.multipartUploads = new MultipartUploads({
    store: new SqlMultipartUploadStore(sql),
    key: multipartUrlKey(await loadSecretKey(config.home, config.secretKey)),
    artifacts: services.artifacts,
    put: (actor, project, path, data) => trackingArtifacts.put(actor, project, path, data),
  });
  // Parts of an unfinished upload are blobs nothing indexes yet: the collector must keep them.
  services.trackingArtifacts.externalReferenceChecks.push(async (sha256s) => {
    const inFlight = await services.multipartUploads.inFlightBlobs();
    return new Set(sha256s.filter((s) => inFlight.has(s)));
  });
};
