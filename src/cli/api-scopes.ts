/**
 * What an embedded command needs of the app, declared once per area: the areas whose services its
 * routes call and those routes. A command passes its area's scope to `openApi`; with TANDEM_URL the
 * scope is ignored (the server has everything).
 *
 * Why: building the whole app (every area wired, every route registered) was most of an embedded
 * read's start-up (issue 18: `tandem runs ls` took 0.7 s over Node's start on a quiet machine, the
 * goal is 0.6 s). The guard is the same app's: authentication, roles and token scope are checked by
 * the routes that are registered, exactly as in the full app.
 *
 * A scope lists every area the named routes reach, also those looked up lazily: an area left out
 * would change an answer (the registry's lineage reads tracking), not only fail it. Reads only:
 * writes fan out to listeners of other areas (`apply` to monitors and endpoints), so they keep the
 * whole app.
 */
import type { ApiScope } from "./api.js";

/** Datasets and their versions: `tandem data …` (data routes call the data service alone). */
export const DATA_API: ApiScope = {
  areas: ["data"],
  routes: async () => (await import("../server/routes/data.js")).dataRoutes,
};

/** Pipeline runs and secrets as read by `runs ls|show` and `secrets ls`. */
export const PIPELINES_READ_API: ApiScope = {
  areas: ["pipelines"],
  routes: async () => (await import("../server/routes/pipelines.js")).pipelineRoutes,
};

/** Experiments and runs through the native tracking routes (`experiments ls`, `runs search|compare`). */
export const TRACKING_READ_API: ApiScope = {
  areas: ["tracking"],
  routes: async () => (await import("../server/routes/tracking.js")).nativeTrackingRoutes,
};

/**
 * Models and versions as `models ls|show` read them. Both routes read the registry's own rows: a
 * version's lineage is the snapshot stored when it was registered, so tracking and pipelines (which
 * the /lineage route reads) are not needed; test/foundation/cli-scoped-api.test.ts compares the
 * answers with the whole app's.
 */
export const MODELS_READ_API: ApiScope = {
  areas: ["registry"],
  routes: async () => (await import("../server/routes/models.js")).modelRoutes,
};

/**
 * A version's lineage, the versions trained on a dataset and a version's model card (`models lineage`,
 * `models card`): the registry reads the source run from tracking, and fills its lineage tags from
 * the pipeline run that made it. Without pipelines the answer would change, not fail.
 */
export const MODEL_LINEAGE_API: ApiScope = {
  areas: ["tracking", "pipelines", "registry"],
  routes: async () => (await import("../server/routes/models.js")).modelRoutes,
};

/** Endpoints and deployment records (`endpoints ls|show`, `deployments ls`). */
export const SERVING_READ_API: ApiScope = {
  areas: ["serving"],
  routes: async () => (await import("../server/routes/endpoints.js")).endpointRoutes,
};

/** Alerts and monitors with their results (`alerts ls|show`, `monitors ls|show`). */
export const MONITORING_READ_API: ApiScope = {
  areas: ["monitoring"],
  routes: async () => {
    const [{ alertRoutes }, { monitorRoutes }] = await Promise.all([
      import("../server/routes/alerts.js"),
      import("../server/routes/monitors.js"),
    ]);
    return [...alertRoutes, ...monitorRoutes];
  },
};

/**
 * `tandem run` and `runs retry`: the services a run reaches, and the pipelines routes for the
 * command's own calls (apply, start, follow, logs). Applying a spec reaches the registry (its policy
 * gate), serving (endpoints), monitoring (monitors) and llm (settings) through their checkers and
 * listeners; steps reach data, registry and serving (built-ins, references) and tracking (their
 * runs). Left out: portal (browser sessions, DORA, maturity, the web UI) and catalog, which only
 * their own routes read; wiring portal loaded @fastify/static and the UI's files, about 0.1 s of
 * the 1.3 s of CPU an embedded 1-step run took in this process (issue 18). Steps get every route on
 * the loopback port, in an app built when one first connects, over every area
 * (TandemApi.listenOnLoopback).
 */
export const PIPELINES_RUN_API: ApiScope = {
  areas: ["tracking", "pipelines", "serving", "monitoring", "registry", "data", "llm"],
  routes: async () => (await import("../server/routes/pipelines.js")).pipelineRoutes,
};

/**
 * Users, identities, members, tokens and the audit log as `users|identities|members|tokens ls` and
 * `audit ls|verify` read them: access and audit are the core every app has, so no area is wired.
 */
export const GOVERNANCE_READ_API: ApiScope = {
  areas: [],
  routes: async () => {
    const [{ accessRoutes }, { auditRoutes }] = await Promise.all([
      import("../server/routes/access.js"),
      import("../server/routes/audit.js"),
    ]);
    return [...accessRoutes, ...auditRoutes];
  },
};

/**
 * Prompts and traces as `prompts ls|show|diff|history` and `traces ls|show` read them: their routes
 * call the llm area alone (and access, which every app has). llm is wired on serving's runtime (the
 * gateway), so serving comes with it; nothing of serving is read.
 */
export const LLM_READ_API: ApiScope = {
  areas: ["serving", "llm"],
  routes: async () => {
    const [{ promptRoutes }, { traceRoutes }] = await Promise.all([
      import("../server/routes/prompts.js"),
      import("../server/routes/traces.js"),
    ]);
    return [...promptRoutes, ...traceRoutes];
  },
};

/**
 * A model's aliases, their history, a version's decisions and the policies in force, as `models
 * alias ls|history`, `models decisions` and `policies show` read them: the registry's own rows.
 */
export const GATES_READ_API: ApiScope = {
  areas: ["registry"],
  routes: async () => (await import("../server/routes/model-gates.js")).modelGateRoutes,
};
