/**
 * What a token limited to `tracking` may call: MLflow tracking (experiments, runs, metrics, params,
 * tags, artifacts through the proxy) and Tandem's own tracking routes. Nothing else: no registry
 * (MLflow's registered-models and model-versions included), serving, pipelines, data or access.
 * A pipeline run's token is limited so when a policy in force says `step_token: tracking`.
 */
import { ForbiddenError } from "../core/errors.js";
import type { Principal } from "../core/governance/model.js";
import type { AnyRoute } from "./route-kit.js";

const MLFLOW_REGISTRY = /\/(registered-models|model-versions)(\/|$)/;

/** A run's own step inputs and outputs, which its remote steps' agent moves (the run's token only). */
const RUN_BLOBS = /^\/api\/v1\/projects\/:project\/pipeline-runs\/:id\/blobs(\/|$)/;

export function isTrackingRoute(route: AnyRoute): boolean {
  const url = route.url;
  // A Slurm or Kubernetes step under step_token: tracking still needs its inputs and outputs.
  if (RUN_BLOBS.test(url)) return true;
  if (url.startsWith("/api/2.0/mlflow-artifacts/")) return true;
  if (url.startsWith("/api/2.0/mlflow/")) return !MLFLOW_REGISTRY.test(url);
  return route.tags.includes("tracking");
}

/** Throws ForbiddenError when the principal's token is limited to tracking and the route is not. */
export function checkTokenScope(route: AnyRoute, principal: Principal): void {
  if (principal.tokenScope !== "tracking" || isTrackingRoute(route)) return;
  throw new ForbiddenError(
    `this token may only log to tracking (runs, metrics, artifacts): a policy in force says step_token: tracking; ${route.method} ${route.url} is refused`,
  );
}
