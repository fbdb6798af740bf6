/**
 * The registry's "no such model", "no such version" and "name taken" errors. `details.resource` says
 * which model or version, so a protocol's front can answer in that protocol's words (MLflow clients
 * show its SQL store's messages, e.g. "Model Version (name=m, version=3) not found").
 */
import { ConflictError, NotFoundError } from "../errors.js";
import { formatRef } from "./refs.js";

export type RegistryResource =
  { type: "registered_model"; name: string } | { type: "model_version"; name: string; version: number };

export const modelNotFound = (project: string, name: string) =>
  new NotFoundError(`model ${name} does not exist in project ${project}`, {
    resource: { type: "registered_model", name } satisfies RegistryResource,
  });

export const versionNotFound = (project: string, name: string, version: number) =>
  new NotFoundError(`model version ${formatRef(name, version)} does not exist in project ${project}`, {
    resource: { type: "model_version", name, version } satisfies RegistryResource,
  });

export const modelNameTaken = (project: string, name: string) =>
  new ConflictError(`model ${name} already exists in project ${project}`, {
    resource: { type: "registered_model", name } satisfies RegistryResource,
  });
