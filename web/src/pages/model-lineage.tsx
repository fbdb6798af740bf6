import { projectPath } from "../api/client";
import type { LineageWire } from "../api/registry";
import { Graph } from "../components/graph";
import { ErrorBox, Loading, Section } from "../components/status";
import { useApi } from "../lib/use-api";

const TONE: Record<string, string> = {
  model_version: "model",
  dataset_version: "dataset",
  run: "succeeded",
  pipeline_run: "running",
  step_run: "pending",
};

export function LineageSection({ project, name, version }: { project: string; name: string; version: number }) {
  const lineage = useApi<LineageWire>(
    projectPath(project, `/models/${encodeURIComponent(name)}/versions/${version}/lineage`),
  );
  const g = lineage.data;
  return (
    <Section title="Lineage" id="lineage">
      <ErrorBox error={lineage.error} />
      {!g && !lineage.error && <Loading what="lineage" />}
      {g && (
        <>
          <Graph
            title={`Lineage of ${name} v${version}`}
            direction="TB"
            testId="lineage-graph"
            nodes={g.nodes.map((n) => ({
              id: n.id,
              label: n.label,
              sublabel: n.kind.replace(/_/g, " "),
              tone: TONE[n.kind] ?? "none",
            }))}
            edges={g.edges.map((e) => ({ from: e.from, to: e.to }))}
          />
          <p className="small">
            Data:{" "}
            <span data-testid="lineage-datasets">
              {g.dataset_versions.length ? g.dataset_versions.join(", ") : "—"}
            </span>{" "}
            · commit <code>{g.git_commit ?? "—"}</code> · environment{" "}
            <code>{g.env_digest ? g.env_digest.slice(0, 12) : "—"}</code>
          </p>
        </>
      )}
    </Section>
  );
}
