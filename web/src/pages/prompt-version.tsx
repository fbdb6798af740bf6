/** One prompt version, a side-by-side diff of two, and an evaluation's per-case table. */
import { projectPath, qs } from "../api/client";
import {
  sideBySide,
  type EvalCasesWire,
  type PromptDiffWire,
  type PromptVersionWire,
  type PromptEvaluationWire,
} from "../api/llm";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatDuration, formatNumber, formatTime, shortId } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";

const json = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

export function PromptVersionPage({ project, name, version }: { project: string; name: string; version: string }) {
  const v = useApi<PromptVersionWire & { evaluations: PromptEvaluationWire[] }>(
    projectPath(project, `/prompts/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`),
  );
  const d = v.data;
  return (
    <>
      <h1>
        <Link href={projectHref(project, "prompts", name)}>{name}</Link> v{d?.version ?? version}
      </h1>
      <ErrorBox error={v.error} />
      {!d && v.loading && <Loading what="version" />}
      {d && (
        <>
          <Section title="Version" id="prompt-version">
            <dl className="facts">
              <dt>Aliases</dt>
              <dd data-testid="version-aliases">{d.aliases.join(", ") || "—"}</dd>
              <dt>Variables</dt>
              <dd>{d.variables.join(", ") || "—"}</dd>
              <dt>Parameters</dt>
              <dd>
                <code className="wrap">{JSON.stringify(d.params)}</code>
              </dd>
              <dt>Author</dt>
              <dd>
                {d.author}, {formatTime(d.created_at)}
              </dd>
              <dt>SHA-256</dt>
              <dd>
                <code className="wrap">{d.sha256}</code>
              </dd>
            </dl>
          </Section>
          <Section title="Messages" id="prompt-messages">
            {d.messages.map((m, i) => (
              <div key={i} className="message" data-testid="prompt-message">
                <div className="muted small">{m.role}</div>
                <pre className="wrap">{m.content}</pre>
              </div>
            ))}
          </Section>
          <Section title="Evaluations" id="version-evaluations">
            <EvaluationsTable
              project={project}
              name={name}
              rows={d.evaluations}
              caption="Evaluations of this version"
              testId="version-evaluations"
              empty="Not evaluated yet."
            />
          </Section>
        </>
      )}
    </>
  );
}

/** A prompt's evaluations, each linking to its per-case table; the version column when several are listed. */
export function EvaluationsTable(props: {
  project: string;
  name: string;
  rows: PromptEvaluationWire[];
  caption: string;
  testId: string;
  empty: string;
  showVersion?: boolean;
}) {
  const { project, name } = props;
  return (
    <DataTable
      caption={props.caption}
      testId={props.testId}
      rows={props.rows}
      rowKey={(e) => e.id}
      empty={props.empty}
      columns={[
        {
          key: "id",
          header: "Evaluation",
          cell: (e) => <Link href={projectHref(project, "prompts", name, "evaluations", e.id)}>{shortId(e.id)}</Link>,
        },
        ...(props.showVersion
          ? [{ key: "version", header: "Version", cell: (e: PromptEvaluationWire) => `v${e.version}` }]
          : []),
        { key: "dataset", header: "Cases", cell: (e) => e.dataset },
        { key: "run", header: "Run", cell: (e) => (e.run_id ? <code>{shortId(e.run_id)}</code> : "—") },
        {
          key: "metrics",
          header: "Metrics",
          cell: (e) =>
            Object.entries(e.metrics)
              .filter(([k]) => k.endsWith(".mean"))
              .map(([k, x]) => `${k} ${formatNumber(x)}`)
              .join(", ") || "—",
        },
        { key: "created", header: "When", cell: (e) => formatTime(e.created_at) },
      ]}
    />
  );
}

export function PromptDiffPage({ project, name, a, b }: { project: string; name: string; a: string; b: string }) {
  const diff = useApi<PromptDiffWire>(
    a && b ? projectPath(project, `/prompts/${encodeURIComponent(name)}/diff${qs({ a, b })}`) : null,
  );
  const d = diff.data;
  return (
    <>
      <h1>
        <Link href={projectHref(project, "prompts", name)}>{name}</Link>: v{a} ↔ v{b}
      </h1>
      {!(a && b) && <p className="error">Pick two versions to compare.</p>}
      <ErrorBox error={diff.error} />
      {!d && diff.loading && <Loading what="diff" />}
      {d && (
        <>
          {!d.changed && <p className="muted">The two versions are identical.</p>}
          {d.messages.map((m) => (
            <Section key={m.index} title={`Message ${m.index + 1} (${m.role.a ?? "—"} → ${m.role.b ?? "—"})`}>
              <DataTable
                caption={`Message ${m.index + 1}, side by side`}
                testId="prompt-diff"
                rows={sideBySide(m.lines).map((r, i) => ({ ...r, i }))}
                rowKey={(r) => String(r.i)}
                columns={[
                  {
                    key: "a",
                    header: d.a,
                    cell: (r) => <pre className={`wrap diff-${r.op === "add" ? "none" : r.op}`}>{r.a ?? ""}</pre>,
                  },
                  {
                    key: "b",
                    header: d.b,
                    cell: (r) => <pre className={`wrap diff-${r.op === "del" ? "none" : r.op}`}>{r.b ?? ""}</pre>,
                  },
                ]}
              />
            </Section>
          ))}
          <Section title="Parameters and variables" id="diff-params">
            <DataTable
              caption="Changed parameters"
              testId="diff-params"
              rows={d.params}
              rowKey={(p) => p.key}
              empty="No parameter changed."
              columns={[
                { key: "key", header: "Parameter", cell: (p) => p.key },
                { key: "a", header: d.a, cell: (p) => json(p.a ?? "—") },
                { key: "b", header: d.b, cell: (p) => json(p.b ?? "—") },
              ]}
            />
            <p className="small">
              Variables added: {d.variables.added.join(", ") || "none"}; removed:{" "}
              {d.variables.removed.join(", ") || "none"}.
            </p>
          </Section>
        </>
      )}
    </>
  );
}

export function EvalCasesPage({ project, name, id }: { project: string; name: string; id: string }) {
  const cases = useApi<EvalCasesWire>(
    projectPath(project, `/prompts/${encodeURIComponent(name)}/evaluations/${encodeURIComponent(id)}/cases`),
  );
  const d = cases.data;
  const scorers = d ? [...new Set(d.rows.flatMap((r) => Object.keys(r.scores)))] : [];
  return (
    <>
      <h1>
        Evaluation of <Link href={projectHref(project, "prompts", name)}>{d?.evaluated ?? name}</Link>
      </h1>
      <ErrorBox error={cases.error} />
      {!d && cases.loading && <Loading what="cases" />}
      {d && (
        <>
          <Section title="Metrics" id="eval-metrics">
            <dl className="facts" data-testid="eval-metrics">
              <dt>Cases</dt>
              <dd>{d.dataset}</dd>
              {Object.entries(d.metrics).map(([k, v]) => (
                <div key={k} className="contents">
                  <dt>{k}</dt>
                  <dd>{formatNumber(v)}</dd>
                </div>
              ))}
            </dl>
          </Section>
          <Section title="Cases" id="eval-cases">
            <DataTable
              caption="Per-case results"
              testId="eval-cases"
              rows={d.rows}
              rowKey={(r) => String(r.line)}
              columns={[
                { key: "line", header: "Line", cell: (r) => r.line, numeric: true },
                {
                  key: "variables",
                  header: "Variables",
                  cell: (r) => <code className="wrap">{JSON.stringify(r.variables)}</code>,
                },
                {
                  key: "expected",
                  header: "Expected",
                  cell: (r) => <span className="wrap">{json(r.expected ?? "—")}</span>,
                },
                {
                  key: "answer",
                  header: "Answer",
                  cell: (r) => <span className={`wrap${r.error ? " error" : ""}`}>{r.error ?? r.answer ?? "—"}</span>,
                },
                ...scorers.map((s) => ({
                  key: `score-${s}`,
                  header: s,
                  numeric: true,
                  cell: (r: EvalCasesWire["rows"][number]) =>
                    r.score_errors[s] ? (
                      <span className="error" title={r.score_errors[s]}>
                        error
                      </span>
                    ) : (
                      formatNumber(r.scores[s])
                    ),
                })),
                { key: "latency", header: "Latency", cell: (r) => formatDuration(r.latency_ms), numeric: true },
              ]}
            />
          </Section>
        </>
      )}
    </>
  );
}
