/**
 * How the DORA page prints each metric's figure for a group; pure, so the e2e tests print the API's
 * numbers with the same function and compare text.
 */
import type { DoraGroupWire, DoraMetricId } from "../api/portal.js";
import { formatPerWeek } from "../api/portal.js";
import { formatDuration, formatPercent } from "./format.js";

export function doraFigure(g: DoraGroupWire, metric: DoraMetricId): string {
  switch (metric) {
    case "deployment_frequency":
      return `${formatPerWeek(g.deployment_frequency.per_week)}/week`;
    case "change_lead_time":
      return formatDuration(g.change_lead_time.median_ms);
    case "change_fail_rate":
      return g.change_fail_rate.rate === null
        ? "—"
        : `${formatPercent(g.change_fail_rate.rate)} (${g.change_fail_rate.failed})`;
    case "failed_deployment_recovery_time":
      return formatDuration(g.failed_deployment_recovery_time.median_ms);
    case "deployment_rework_rate":
      return g.deployment_rework_rate.rate === null
        ? "—"
        : `${formatPercent(g.deployment_rework_rate.rate)} (${g.deployment_rework_rate.rework})`;
  }
}
