/**
 * What built-in steps' `with:` fields name, answered by the areas that own them: dataset versions
 * (Data), model versions and aliases and the policies in force (Registry), endpoints (Serving).
 * Looked up when a step needs them, so the order of the area wirings does not matter.
 */
import { NotFoundError } from "../core/errors.js";
import type { ReferenceResolver } from "../core/pipelines/ports.js";
import type { Services } from "../server/services.js";

export function withReferences(services: Services): ReferenceResolver {
  return {
    async dataset(project, ref) {
      const v = await services.data.resolve(project, ref);
      return { name: v.name, version: v.version, manifest: v.manifestSha };
    },
    async model(project, ref) {
      const v = await services.registry.resolve(project, ref);
      return { name: v.modelName, version: v.version, sha256: v.artifact.sha256 };
    },
    async endpoint(project, name) {
      const e = await services.serving.endpoints.get(project, name);
      return { model: e.model, primary: e.primaryVersion, canary: e.canaryVersion, shadow: e.shadowVersion };
    },
    async policy(project, name) {
      const policies = await services.registry.listPolicies(project);
      const policy = policies[name];
      if (!policy)
        throw new NotFoundError(
          `project ${project} has no policy ${name} (policies: ${Object.keys(policies).join(", ") || "none"})`,
        );
      return policy;
    },
  };
}
