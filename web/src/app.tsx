import { lazy, Suspense, useEffect, type ReactNode } from "react";
import { Layout, PAGES } from "./components/layout";
import { Loading } from "./components/status";
import { navigate, projectHref, useRoute } from "./lib/router";
import { ProjectRoleProvider, useSession } from "./lib/session";
import { AuditPage } from "./pages/audit";
import { OverviewPage } from "./pages/overview";
import { SettingsPage } from "./pages/settings";
import { SignIn } from "./pages/sign-in";

// Pages with charts or graphs load on demand, so the first paint does not wait for uPlot or dagre.
const PipelineRunsPage = lazy(() => import("./pages/pipeline-runs").then((m) => ({ default: m.PipelineRunsPage })));
const ExperimentsPage = lazy(() => import("./pages/experiments").then((m) => ({ default: m.ExperimentsPage })));
const ModelsPage = lazy(() => import("./pages/models").then((m) => ({ default: m.ModelsPage })));
const EndpointsPage = lazy(() => import("./pages/endpoints").then((m) => ({ default: m.EndpointsPage })));
const MonitoringPage = lazy(() => import("./pages/monitoring").then((m) => ({ default: m.MonitoringPage })));
const DatasetsPage = lazy(() => import("./pages/datasets").then((m) => ({ default: m.DatasetsPage })));
const AlertDetail = lazy(() => import("./pages/alert-detail").then((m) => ({ default: m.AlertDetail })));
const PromptsPage = lazy(() => import("./pages/prompts").then((m) => ({ default: m.PromptsPage })));
const TracesPage = lazy(() => import("./pages/traces").then((m) => ({ default: m.TracesPage })));
const CatalogPage = lazy(() => import("./pages/catalog").then((m) => ({ default: m.CatalogPage })));
const MaturityPage = lazy(() => import("./pages/maturity").then((m) => ({ default: m.MaturityPage })));
const DoraPage = lazy(() => import("./pages/dora").then((m) => ({ default: m.DoraPage })));

function Page({ project, segments }: { project: string; segments: string[] }): ReactNode {
  const [page = "", ...rest] = segments;
  switch (page) {
    case "":
      return <OverviewPage project={project} />;
    case "catalog":
      return <CatalogPage project={project} />;
    case "maturity":
      return <MaturityPage project={project} />;
    case "dora":
      return <DoraPage project={project} />;
    case "pipeline-runs":
      return <PipelineRunsPage project={project} path={rest} />;
    case "experiments":
      return <ExperimentsPage project={project} path={rest} />;
    case "models":
      return <ModelsPage project={project} path={rest} />;
    case "endpoints":
      return <EndpointsPage project={project} path={rest} />;
    case "prompts":
      return <PromptsPage project={project} path={rest} />;
    case "traces":
      return <TracesPage project={project} path={rest} />;
    case "monitoring":
      return <MonitoringPage project={project} path={rest} />;
    case "alerts":
      // Alertmanager notifications link here (generatorURL); the list lives on the monitoring page.
      return rest[0] ? <AlertDetail project={project} id={rest[0]} /> : <MonitoringPage project={project} />;
    case "datasets":
      return <DatasetsPage project={project} path={rest} />;
    case "audit":
      return <AuditPage project={project} />;
    case "settings":
      return <SettingsPage project={project} />;
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>There is no page {page}.</p>
        </>
      );
  }
}

function useTitle(segments: string[]) {
  const label = PAGES.find((p) => p.path === (segments[0] ?? ""))?.label ?? "Tandem";
  useEffect(() => {
    document.title = `${label} · Tandem`;
  }, [label]);
}

export function App() {
  const { status, me } = useSession();
  const { project, segments } = useRoute();
  useTitle(segments);
  useEffect(() => {
    // "/" and unknown top-level paths go to the project the token is limited to, else `default`.
    if (status === "signed-in" && project === null) navigate(projectHref(me?.token_project ?? "default"), true);
  }, [status, project, me]);

  if (status === "loading") return <Loading what="session" />;
  if (status === "signed-out") return <SignIn />;
  if (project === null) return <Loading what="project" />;
  return (
    <ProjectRoleProvider project={project}>
      <Layout project={project}>
        <Suspense fallback={<Loading what="page" />}>
          <Page key={project} project={project} segments={segments} />
        </Suspense>
      </Layout>
    </ProjectRoleProvider>
  );
}
