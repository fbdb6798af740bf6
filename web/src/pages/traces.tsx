/**
 * Traces: the list filtered by model, status and time (the filters live in the URL's query), and one
 * trace as a waterfall — each span a bar placed by its start and length within the trace — with the
 * selected span's attributes beside it. Paths: traces[/TRACE_ID].
 */
import { useState } from "react";
import { projectPath, qs } from "../api/client";
import { spanTree, type SpanWire, type TraceSummaryWire } from "../api/llm";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section, StatusText } from "../components/status";
import { formatDuration, formatNumber, formatTime } from "../lib/format";
import { Link, projectHref, setQueryParam, useLocation } from "../lib/router";
import { useApi } from "../lib/use-api";

const SINCE: Record<string, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };

export function TracesPage({ project, path = [] }: { project: string; path?: string[] }) {
  if (path[0]) return <TraceDetail project={project} traceId={path[0]} />;
  return <TraceList project={project} />;
}

function TraceList({ project }: { project: string }) {
  const url = useLocation();
  const model = url.searchParams.get("model") ?? "";
  const status = url.searchParams.get("status") ?? "";
  const since = url.searchParams.get("since") ?? "";
  const [modelText, setModelText] = useState(model);
  // The window is fixed when the filter is chosen, so the list does not refetch on every render.
  const [now] = useState(() => Date.now());
  const query = qs({
    model: model || undefined,
    status: status || undefined,
    since: SINCE[since] ? now - SINCE[since] : undefined,
    limit: 100,
  });
  const list = useApi<{ traces: TraceSummaryWire[] }>(projectPath(project, `/traces${query}`));
  return (
    <>
      <h1>Traces</h1>
      <Section title="Filters" id="trace-filters">
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            setQueryParam("model", modelText.trim() || null);
          }}
        >
          <label className="field">
            <span>Model</span>
            <input value={modelText} onChange={(e) => setModelText(e.target.value)} placeholder="gpt-4o-mini" />
          </label>
          <button type="submit">Filter</button>
          <label className="field">
            <span>Status</span>
            <select value={status} onChange={(e) => setQueryParam("status", e.target.value || null)}>
              <option value="">any</option>
              <option value="ok">ok</option>
              <option value="error">error</option>
            </select>
          </label>
          <label className="field">
            <span>Started</span>
            <select value={since} onChange={(e) => setQueryParam("since", e.target.value || null)}>
              <option value="">any time</option>
              <option value="1h">last hour</option>
              <option value="24h">last 24 hours</option>
              <option value="7d">last 7 days</option>
            </select>
          </label>
        </form>
      </Section>
      <Section title="Traces, newest first" id="traces">
        <ErrorBox error={list.error} />
        {list.loading && !list.data && <Loading what="traces" />}
        {list.data && (
          <DataTable
            caption="Traces"
            testId="traces-table"
            rows={list.data.traces}
            rowKey={(t) => t.trace_id}
            empty="No traces match: send OTLP to /v1/traces or call an LLM endpoint."
            columns={[
              {
                key: "name",
                header: "Trace",
                cell: (t) => <Link href={projectHref(project, "traces", t.trace_id)}>{t.root_span_name}</Link>,
              },
              { key: "status", header: "Status", cell: (t) => <StatusText status={t.status} /> },
              { key: "model", header: "Model", cell: (t) => t.model ?? "—" },
              { key: "start", header: "Started", cell: (t) => formatTime(t.start_time) },
              { key: "duration", header: "Duration", cell: (t) => formatDuration(t.duration_ms), numeric: true },
              { key: "spans", header: "Spans", cell: (t) => t.span_count, numeric: true },
              {
                key: "tokens",
                header: "Tokens in / out",
                cell: (t) => `${t.input_tokens} / ${t.output_tokens}`,
                numeric: true,
              },
              { key: "cost", header: "Cost", cell: (t) => formatNumber(t.cost), numeric: true },
            ]}
          />
        )}
      </Section>
    </>
  );
}

function TraceDetail({ project, traceId }: { project: string; traceId: string }) {
  const trace = useApi<{ trace_id: string; spans: SpanWire[] }>(
    projectPath(project, `/traces/${encodeURIComponent(traceId)}`),
  );
  const [selected, setSelected] = useState<string | null>(null);
  const spans = trace.data?.spans ?? [];
  const start = Math.min(...spans.map((s) => s.start_time));
  const end = Math.max(...spans.map((s) => s.start_time + s.duration_ms));
  const total = Math.max(end - start, 1e-3);
  const chosen = spans.find((s) => s.span_id === selected) ?? spans[0];
  return (
    <>
      <h1>
        <Link href={projectHref(project, "traces")}>Traces</Link> / <code>{traceId}</code>
      </h1>
      <ErrorBox error={trace.error} />
      {!trace.data && trace.loading && <Loading what="trace" />}
      {spans.length > 0 && (
        <div className="grid">
          <Section title={`Waterfall (${formatDuration(total)})`} id="waterfall">
            <ol className="waterfall" data-testid="waterfall">
              {spanTree(spans).map(({ span, depth }) => (
                <li key={span.span_id} data-span={span.span_id}>
                  <button
                    type="button"
                    className="linkish span-name"
                    aria-pressed={chosen?.span_id === span.span_id}
                    style={{ paddingLeft: `${depth}rem` }}
                    onClick={() => setSelected(span.span_id)}
                  >
                    {span.name}
                  </button>
                  <span className="bar-track" aria-hidden="true">
                    <span
                      className={`bar bar-${span.status}`}
                      style={{
                        left: `${((span.start_time - start) / total) * 100}%`,
                        width: `${Math.max((span.duration_ms / total) * 100, 0.5)}%`,
                      }}
                    />
                  </span>
                  <span className="small muted">{formatDuration(span.duration_ms)}</span>
                </li>
              ))}
            </ol>
          </Section>
          {chosen && (
            <Section title={`Span ${chosen.name}`} id="span-attributes">
              <dl className="facts" data-testid="span-facts">
                <dt>Span</dt>
                <dd>
                  <code>{chosen.span_id}</code>
                </dd>
                <dt>Status</dt>
                <dd>
                  <StatusText status={chosen.status} />
                  {chosen.status_message ? ` ${chosen.status_message}` : ""}
                </dd>
                <dt>Service</dt>
                <dd>{chosen.service ?? "—"}</dd>
                <dt>Tokens in / out</dt>
                <dd>
                  {chosen.input_tokens ?? "—"} / {chosen.output_tokens ?? "—"}
                </dd>
                <dt>Cost</dt>
                <dd>{formatNumber(chosen.cost)}</dd>
                {chosen.prediction_id && (
                  <>
                    <dt>Prediction</dt>
                    <dd>
                      <code>{chosen.prediction_id}</code>
                    </dd>
                  </>
                )}
              </dl>
              <DataTable
                caption="Span attributes"
                testId="span-attributes"
                rows={Object.entries(chosen.attributes)}
                rowKey={([k]) => k}
                columns={[
                  { key: "k", header: "Attribute", cell: ([k]) => <code>{k}</code> },
                  {
                    key: "v",
                    header: "Value",
                    cell: ([, v]) => <span className="wrap">{typeof v === "string" ? v : JSON.stringify(v)}</span>,
                  },
                ]}
              />
            </Section>
          )}
        </div>
      )}
    </>
  );
}
