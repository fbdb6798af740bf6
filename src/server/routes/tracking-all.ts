/** Every route of the tracking area: MLflow's tracking, registry and artifact-proxy APIs, and the native API. */
import type { AnyRoute } from "../route-kit.js";
import { mlflowArtifactRoutes } from "./mlflow-artifacts.js";
import { mlflowLaterRoutes } from "./mlflow-later.js";
import { mlflowMetricRoutes } from "./mlflow-metrics.js";
import { mlflowMultipartRoutes } from "./mlflow-multipart.js";
import { mlflowRegistryRoutes } from "./mlflow-registry.js";
import { mlflowTrackingRoutes } from "./mlflow-tracking.js";
import { nativeTrackingRoutes } from "./tracking.js";

export const trackingRoutes: AnyRoute[] = [
  ...mlflowTrackingRoutes,
  ...mlflowMetricRoutes,
  ...mlflowRegistryRoutes,
  ...mlflowArtifactRoutes,
  ...mlflowMultipartRoutes,
  ...nativeTrackingRoutes,
  ...mlflowLaterRoutes,
];
