/** `GET /api/v1/catalog/backstage`: the projects the caller may view, as Backstage catalog entities. */
import { z } from "zod";
import { backstageYaml } from "../../core/catalog/backstage.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

const entityWire = z.object({
  apiVersion: z.literal("backstage.io/v1alpha1"),
  kind: z.enum(["System", "Component", "API", "Resource", "Group", "User"]),
  metadata: z
    .object({ name: z.string(), namespace: z.string(), annotations: z.record(z.string(), z.string()).optional() })
    .passthrough(),
  spec: z.record(z.string(), z.unknown()),
});

export const catalogRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/catalog/backstage",
    summary:
      "The projects the token may view as Backstage entities: a System per project, its team as a Group with Users, datasets and models as Resources, endpoints as Components with their APIs, pipelines as Components.",
    description:
      "JSON `{items: [entity, …]}`, or with `?format=yaml` a multi-document catalog-info.yaml that a Backstage `url` location can read. Links point at `ui_url` (default: the server's own URL).",
    tags: ["portal"],
    auth: "bearer",
    role: "authenticated",
    raw: true,
    query: z.object({
      format: z.enum(["json", "yaml"]).default("json"),
      ui_url: z
        .string()
        .regex(/^https?:\/\/[^\s]+$/, "expected an http(s) URL")
        .optional(),
    }),
    response: z.object({ items: z.array(entityWire) }),
    handler: async ({ services, principal, query, reply }) => {
      const uiUrl =
        query.ui_url ?? services.config.serverUrl ?? `http://${services.config.host}:${services.config.port}`;
      const items = await services.catalog.backstage(principal, uiUrl);
      if (query.format === "yaml") {
        return reply.header("content-type", "application/yaml; charset=utf-8").send(backstageYaml(items));
      }
      return reply.header("content-type", "application/json").send(JSON.stringify({ items }));
    },
  }),
];
