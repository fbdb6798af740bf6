/**
 * The project's Overview: a few figures everyone shares, then one of four views (summary for
 * leaders, operations, governance, activity), first the one the caller's role looks after; the
 * buttons switch, and `?view=` keeps the choice in the address.
 */
import { projectPath, qs } from "../api/client";
import type { AlertWire } from "../api/monitoring";
import { formatPerWeek, type DoraWire } from "../api/portal";
import type { EndpointWire } from "../api/serving";
import { ErrorBox, Stat } from "../components/status";
import { Link, projectHref, setQueryParam, useLocation } from "../lib/router";
import { useRole } from "../lib/session";
import { useApi } from "../lib/use-api";
import { ActivityView, GovernanceView, OperationsView, SummaryView } from "./overview-sections";
import { defaultView, isView, VIEWS, type OverviewView } from "./overview-views";

/** The Overview's deployment frequency: DORA's, over the last 28 days (one definition with `/dora`). */
export const FREQUENCY_WINDOW = "28d";

export function OverviewPage({ project }: { project: string }) {
  const role = useRole();
  const asked = useLocation().searchParams.get("view");
  const view: OverviewView = isView(asked) ? asked : defaultView(role);
  const endpoints = useApi<{ endpoints: EndpointWire[] }>(projectPath(project, "/endpoints"));
  const alerts = useApi<{ alerts: AlertWire[] }>(
    projectPath(project, `/alerts${qs({ status: "firing", limit: 100 })}`),
  );
  const dora = useApi<DoraWire>(projectPath(project, `/dora${qs({ since: FREQUENCY_WINDOW })}`));
  const maturity = useApi<{ level: number; passed: number; total: number }>(projectPath(project, "/maturity"));
  const healthy = endpoints.data?.endpoints.filter((e) => e.status === "serving").length;
  return (
    <>
      <h1>Overview of {project}</h1>
      <div className="view-switch" role="group" aria-label="Overview for">
        {VIEWS.map((v) => (
          <button
            key={v.id}
            type="button"
            aria-pressed={view === v.id}
            title={`For ${v.for}`}
            data-view={v.id}
            onClick={() => setQueryParam("view", v.id)}
          >
            {v.label}
          </button>
        ))}
      </div>
      <p className="small muted" data-testid="overview-view">
        {VIEWS.find((v) => v.id === view)!.label} view, for {VIEWS.find((v) => v.id === view)!.for}
        {isView(asked) ? "" : role ? ` (chosen from your role, ${role})` : ""}.
      </p>
      <div className="stats">
        <Stat label="endpoints" value={endpoints.data?.endpoints.length ?? "—"} testId="stat-endpoints" />
        <Stat label="serving normally" value={healthy ?? "—"} testId="stat-healthy" />
        <Stat label="open alerts" value={alerts.data?.alerts.length ?? "—"} testId="stat-alerts" />
        <Stat
          label="deployments / week (28 days)"
          value={dora.data ? formatPerWeek(dora.data.groups.all.deployment_frequency.per_week) : "—"}
          testId="stat-deploy-frequency"
        />
        <Stat label="MLOps maturity level" value={maturity.data?.level ?? "—"} testId="stat-maturity" />
      </div>
      <p className="muted small" data-testid="overview-maturity">
        {maturity.data ? (
          <>
            MLOps maturity: level {maturity.data.level} of 2 ({maturity.data.passed}/{maturity.data.total} criteria met,
            graded from what ran; <Link href={projectHref(project, "maturity")}>each criterion and its evidence</Link>
            ).
          </>
        ) : (
          "MLOps maturity: —"
        )}
      </p>
      <ErrorBox error={endpoints.error ?? alerts.error ?? dora.error} />
      {view === "summary" && <SummaryView project={project} endpoints={endpoints.data?.endpoints ?? null} />}
      {view === "operations" && (
        <OperationsView
          project={project}
          endpoints={endpoints.data?.endpoints ?? []}
          alerts={alerts.data?.alerts ?? []}
        />
      )}
      {view === "governance" && <GovernanceView project={project} />}
      {view === "activity" && <ActivityView project={project} />}
    </>
  );
}
