import type { ReactNode } from "react";
import { useApi } from "../lib/use-api";
import { Link, navigate, projectHref, useLocation } from "../lib/router";
import { useRole, useSession } from "../lib/session";
import type { ProjectWire } from "../api/types";

export const PAGES: Array<{ path: string; label: string }> = [
  { path: "", label: "Overview" },
  { path: "catalog", label: "Catalog" },
  { path: "pipeline-runs", label: "Pipeline runs" },
  { path: "experiments", label: "Experiments" },
  { path: "models", label: "Models" },
  { path: "endpoints", label: "Endpoints" },
  { path: "prompts", label: "Prompts" },
  { path: "traces", label: "Traces" },
  { path: "monitoring", label: "Monitoring" },
  { path: "datasets", label: "Datasets" },
  { path: "maturity", label: "Maturity" },
  { path: "dora", label: "DORA" },
  { path: "audit", label: "Audit log" },
  { path: "settings", label: "Settings" },
];

function ProjectPicker({ project }: { project: string }) {
  const projects = useApi<{ projects: ProjectWire[] }>("/api/v1/projects");
  const names = projects.data?.projects.map((p) => p.name) ?? [];
  if (!names.includes(project)) names.unshift(project);
  return (
    <label className="picker">
      <span>Project</span>
      <select value={project} onChange={(e) => navigate(projectHref(e.target.value))}>
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Layout({ project, children }: { project: string; children: ReactNode }) {
  const { me, signOut } = useSession();
  const role = useRole();
  const url = useLocation();
  const current = url.pathname.split("/")[3] ?? "";
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href={projectHref(project)} className="brand">
          Tandem
        </Link>
        <ProjectPicker project={project} />
        <div className="who">
          <span data-testid="who">
            {me?.user}
            {role ? ` · ${role}` : ""}
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <div className="frame">
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <Link
                  href={projectHref(project, ...(p.path ? [p.path] : []))}
                  aria-current={current === p.path ? "page" : undefined}
                >
                  {p.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </>
  );
}
