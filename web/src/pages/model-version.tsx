import { useState, type FormEvent } from "react";
import { ApiError, projectPath, put } from "../api/client";
import type { ModelWire, OutcomeWire, VersionWire } from "../api/registry";
import { roleAtLeast } from "../api/types";
import { ErrorBox, Loading, Section } from "../components/status";
import { Link, projectHref } from "../lib/router";
import { useRole } from "../lib/session";
import { useApi } from "../lib/use-api";
import { ModelCardSection } from "./model-card";
import { DecisionsSection } from "./model-decisions";
import { FeatureImportanceSection } from "./model-importance";
import { LineageSection } from "./model-lineage";
import { aliasList } from "./models";

function SetAlias({
  project,
  name,
  version,
  onDone,
}: {
  project: string;
  name: string;
  version: number;
  onDone(): void;
}) {
  const [alias, setAlias] = useState("champion");
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    put<OutcomeWire>(
      projectPath(project, `/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias.trim())}`),
      { version },
    ).then(
      (o) => {
        setError(null);
        setResult(o.status === "applied" ? `${alias} now points at v${version}.` : `Request ${o.status}.`);
        onDone();
      },
      (err: Error) => {
        // A policy hold or refusal is an answer, not a failure: say what the gate decided.
        const details = err instanceof ApiError && err.code === "POLICY_REFUSED" ? err.message : null;
        setResult(null);
        setError(details ? new Error(details) : err);
        onDone();
      },
    );
  };
  return (
    <form className="row" onSubmit={submit}>
      <label className="field">
        <span>Alias</span>
        <input value={alias} onChange={(e) => setAlias(e.target.value)} required />
      </label>
      <button type="submit">Point alias at v{version}</button>
      {result && (
        <span role="status" className="ok">
          {result}
        </span>
      )}
      <ErrorBox error={error} />
    </form>
  );
}

export function ModelVersionPage({ project, name, version }: { project: string; name: string; version: string }) {
  const role = useRole();
  const base = `/models/${encodeURIComponent(name)}`;
  const model = useApi<ModelWire & { versions: VersionWire[] }>(projectPath(project, base));
  const v = model.data?.versions.find((x) => String(x.version) === version) ?? null;
  const [tick, setTick] = useState(0);
  const refresh = () => {
    model.reload();
    setTick((t) => t + 1);
  };
  return (
    <>
      <p>
        <Link href={projectHref(project, "models", name)}>Model {name}</Link>
      </p>
      <h1>
        {name} v{version}
      </h1>
      <ErrorBox error={model.error} />
      {!model.data && !model.error && <Loading what="version" />}
      {model.data && !v && (
        <p className="error">
          Version {version} of {name} does not exist.
        </p>
      )}
      {v && (
        <>
          <p>
            Aliases of {name}: <strong data-testid="version-aliases">{aliasList(model.data?.aliases)}</strong>. This
            version: {v.aliases?.length ? v.aliases.join(", ") : "no alias"}; stage {v.stage}; by {v.author}.
          </p>
          {roleAtLeast(role, "member") && (
            <Section title="Aliases" id="set-alias">
              <SetAlias project={project} name={name} version={v.version} onDone={refresh} />
            </Section>
          )}
          <DecisionsSection
            project={project}
            name={name}
            version={v.version}
            author={v.author}
            refresh={tick}
            onReviewed={refresh}
          />
          <LineageSection project={project} name={name} version={v.version} />
          {/* lineage.pipeline_run_id is the pipeline run's tracking run; the tag names the pipeline run itself. */}
          <FeatureImportanceSection project={project} pipelineRunId={v.tags["tandem.pipeline_run"] ?? null} />
          <ModelCardSection key={`c${tick}`} project={project} name={name} version={v.version} />
        </>
      )}
    </>
  );
}
