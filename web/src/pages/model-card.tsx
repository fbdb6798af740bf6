import { projectPath } from "../api/client";
import type { CardWire, TensorWire } from "../api/registry";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatNumber, formatTime } from "../lib/format";
import { useApi } from "../lib/use-api";

const tensors = (t: TensorWire[] | undefined) => (t ?? []).map((x) => `${x.name} (${x.type})`).join(", ") || "—";

export function ModelCardSection({ project, name, version }: { project: string; name: string; version: number }) {
  const card = useApi<CardWire>(projectPath(project, `/models/${encodeURIComponent(name)}/versions/${version}/card`));
  const c = card.data;
  return (
    <Section
      title="Model card"
      id="card"
      actions={
        <a href={projectPath(project, `/models/${encodeURIComponent(name)}/versions/${version}/card?format=md`)}>
          Markdown
        </a>
      }
    >
      <ErrorBox error={card.error} />
      {!c && !card.error && <Loading what="model card" />}
      {c && (
        <>
          <dl className="facts">
            <dt>Description</dt>
            <dd>{c.description || "—"}</dd>
            <dt>Intended use</dt>
            <dd>{c.intended_use || "—"}</dd>
            <dt>Author / owner</dt>
            <dd>
              {c.author} / {c.owner}
            </dd>
            <dt>Created</dt>
            <dd>{formatTime(c.created_at)}</dd>
            <dt>Artifact</dt>
            <dd>
              {c.artifact.format}, {c.artifact.size} bytes, <code>{c.artifact.sha256.slice(0, 16)}</code>
            </dd>
            <dt>Inputs</dt>
            <dd>{tensors(c.signature?.inputs)}</dd>
            <dt>Outputs</dt>
            <dd>{tensors(c.signature?.outputs)}</dd>
            <dt>Training data</dt>
            <dd>{c.training.dataset_versions.join(", ") || "—"}</dd>
          </dl>
          {Object.keys(c.training.metrics).length > 0 && (
            <DataTable
              caption="Training metrics"
              testId="card-metrics"
              rows={Object.entries(c.training.metrics)}
              rowKey={([k]) => k}
              columns={[
                { key: "metric", header: "Metric", cell: ([k]) => k },
                { key: "value", header: "Value", numeric: true, cell: ([, v]) => formatNumber(v) },
              ]}
            />
          )}
          {c.fairness.map((f) => (
            <div key={`${f.dataset}/${f.attribute}`}>
              <h3>
                Fairness by {f.attribute} on {f.dataset}
              </h3>
              <DataTable
                caption={`Fairness by ${f.attribute}`}
                rows={Object.entries(f.by_group)}
                rowKey={([g]) => g}
                columns={[
                  { key: "group", header: "Group", cell: ([g]) => g },
                  ...[...new Set(Object.values(f.by_group).flatMap((m) => Object.keys(m)))].map((k) => ({
                    key: k,
                    header: k,
                    numeric: true,
                    cell: ([, m]: [string, Record<string, number>]) => formatNumber(m[k]),
                  })),
                ]}
              />
            </div>
          ))}
        </>
      )}
    </Section>
  );
}
