/**
 * The Overview's views, one per stakeholder the seed names, and which one a caller sees first. The
 * view is chosen from the rights the caller already has in the project (no new permission): what a
 * role may do says what its holder looks after. Anyone may switch to any view; each shows only what
 * the viewer role may read anyway.
 */
import type { Role } from "../api/types.js";
import type { AlertWire } from "../api/monitoring.js";
import type { EndpointWire } from "../api/serving.js";

export type OverviewView = "summary" | "operations" | "governance" | "activity";

export const VIEWS: Array<{ id: OverviewView; label: string; for: string }> = [
  { id: "summary", label: "Summary", for: "leaders" },
  { id: "operations", label: "Operations", for: "operators" },
  { id: "governance", label: "Governance", for: "approvers and security" },
  { id: "activity", label: "Activity", for: "data scientists and ML engineers" },
];

/**
 * approver and admin decide promotions and change policies → governance; member deploys, rolls back
 * and acknowledges alerts (an operator's rights) → operations; viewer only reads → summary.
 */
export function defaultView(role: Role | null): OverviewView {
  switch (role) {
    case "admin":
    case "approver":
      return "governance";
    case "member":
      return "operations";
    case "viewer":
    case null:
      return "summary";
  }
}

export function isView(value: string | null): value is OverviewView {
  return VIEWS.some((v) => v.id === value);
}

const DAY = 86_400_000;
export const TREND_DAYS = 90;

/** Incidents: alerts that started firing in the last `days` days (resolved or not). */
export function incidentsSince(alerts: AlertWire[], now: number, days = TREND_DAYS): AlertWire[] {
  return alerts.filter((a) => a.starts_at >= now - days * DAY);
}

/** Models whose version an endpoint serves to production traffic, by model name. */
export function modelsInProduction(endpoints: EndpointWire[]): string[] {
  const names = endpoints.filter((e) => e.primary_version !== null).map((e) => e.model.split("@")[0]!);
  return [...new Set(names)].sort();
}
