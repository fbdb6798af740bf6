/** Every route of the server, by area. Add one line per area. */
import type { AnyRoute } from "../route-kit.js";
import { accessRoutes } from "./access.js";
import { alertRoutes } from "./alerts.js";
import { monitorRoutes } from "./monitors.js";
import { trafficExportRoutes } from "./traffic-export.js";
import { auditRoutes } from "./audit.js";
import { dataRoutes } from "./data.js";
import { endpointRoutes } from "./endpoints.js";
import { inferenceRoutes } from "./inference.js";
import { oipV2Routes } from "./oip-v2.js";
import { modelGateRoutes } from "./model-gates.js";
import { modelRoutes } from "./models.js";
import { pipelineRoutes } from "./pipelines.js";
import { pipelineEventRoutes } from "./pipeline-events.js";
import { sessionRoutes } from "./session.js";
import { systemRoutes } from "./system.js";
import { apiDocsRoutes } from "./api-docs.js";
import { trackingRoutes } from "./tracking-all.js";
import { llmChatRoutes } from "./llm-chat.js";
import { promptRoutes } from "./prompts.js";
import { promptCompareRoutes } from "./prompt-compare.js";
import { traceRoutes } from "./traces.js";
import { doraRoutes } from "./dora.js";
import { maturityRoutes } from "./maturity.js";
import { catalogRoutes } from "./catalog.js";

export function allRoutes(): AnyRoute[] {
  return [
    ...systemRoutes,
    ...apiDocsRoutes,
    ...accessRoutes,
    ...auditRoutes,
    ...dataRoutes,
    ...sessionRoutes,
    ...pipelineEventRoutes,
    ...endpointRoutes,
    ...inferenceRoutes,
    ...oipV2Routes,
    ...trackingRoutes,
    ...alertRoutes,
    ...monitorRoutes,
    ...trafficExportRoutes,
    ...pipelineRoutes,
    ...modelRoutes,
    ...modelGateRoutes,
    ...promptRoutes,
    ...promptCompareRoutes,
    ...llmChatRoutes,
    ...traceRoutes,
    ...maturityRoutes,
    ...catalogRoutes,
    ...doraRoutes,
  ];
}
