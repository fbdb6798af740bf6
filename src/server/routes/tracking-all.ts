/** Every route of the tracking area: MLflow's tracking API and artifact proxy, and the native API. */
import type { AnyRoute } from "../route-kit.js";
import { mlflowArtifactRoutes } from "./mlflow-artifacts.js";
import { mlflowTrackingRoutes } from "./mlflow-tracking.js";

export const trackingRoutes: AnyRoute[] = [...mlflowTrackingRoutes, ...mlflowArtifactRoutes];
