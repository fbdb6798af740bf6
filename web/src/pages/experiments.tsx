import { useEffect, useState } from "react";
import { searchExperiments, type MlflowExperiment } from "../api/mlflow";
import { ErrorBox, Loading } from "../components/status";
import { setQueryParam, useLocation } from "../lib/router";
import { ExperimentRuns } from "./experiment-runs";
import { RunCompare } from "./run-compare";

export function ExperimentsPage({ project, path = [] }: { project: string; path?: string[] }) {
  const url = useLocation();
  const [experiments, setExperiments] = useState<MlflowExperiment[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    searchExperiments(project).then(
      (r) => setExperiments(r.experiments ?? []),
      (e: Error) => setError(e),
    );
  }, [project]);

  if (path[0] === "compare")
    return <RunCompare project={project} runIds={(url.searchParams.get("runs") ?? "").split(",").filter(Boolean)} />;
  const chosen = url.searchParams.get("experiment") ?? experiments?.[0]?.experiment_id ?? null;
  return (
    <>
      <h1>Experiments</h1>
      <ErrorBox error={error} />
      {!experiments && !error && <Loading what="experiments" />}
      {experiments && experiments.length === 0 && <p className="muted">No experiments in this project yet.</p>}
      {experiments && experiments.length > 0 && (
        <label className="field">
          <span>Experiment</span>
          <select
            value={chosen ?? ""}
            onChange={(e) => setQueryParam("experiment", e.target.value)}
            data-testid="experiment-select"
          >
            {experiments.map((x) => (
              <option key={x.experiment_id} value={x.experiment_id}>
                {x.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {chosen && <ExperimentRuns key={chosen} project={project} experimentId={chosen} />}
    </>
  );
}
