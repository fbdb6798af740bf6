import { useState } from "react";
import { post, projectPath } from "../api/client";
import { roleAtLeast } from "../api/types";
import { trafficSplit, type EndpointDetail } from "../api/serving";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section, Stat } from "../components/status";
import { formatPercent, formatTime } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useRole } from "../lib/session";
import { useApi } from "../lib/use-api";
import { CanaryJudgement } from "./canary-judgement";
import { EndpointTraffic } from "./endpoint-traffic";

function TrafficBar({ endpoint }: { endpoint: EndpointDetail }) {
  const split = trafficSplit(endpoint);
  return (
    <div>
      <div
        className="split"
        role="img"
        aria-label={split.map((s) => `${s.slot} version ${s.version ?? "?"}: ${s.percent}%`).join(", ")}
      >
        {split.map((s) => (
          <div key={s.slot} className={`split-${s.slot}`} style={{ width: `${s.percent}%` }} />
        ))}
      </div>
      <ul className="legend" data-testid="traffic-split">
        {split.map((s) => (
          <li key={s.slot} data-slot={s.slot}>
            <span className={`swatch split-${s.slot}`} aria-hidden="true" /> {s.slot} v{s.version ?? "?"}:{" "}
            <strong>{s.percent}%</strong>
          </li>
        ))}
        {endpoint.shadow_version !== null && (
          <li data-slot="shadow">shadow v{endpoint.shadow_version}: copies of every request</li>
        )}
      </ul>
    </div>
  );
}

export function EndpointDetailPage({ project, name }: { project: string; name: string }) {
  const role = useRole();
  const detail = useApi<EndpointDetail>(projectPath(project, `/endpoints/${encodeURIComponent(name)}`));
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const e = detail.data;

  const act = (verb: "rollback" | "promote") => {
    if (
      !window.confirm(
        verb === "rollback"
          ? `Roll ${name} back to the previous version?`
          : `Promote the canary of ${name} to primary?`,
      )
    )
      return;
    setBusy(true);
    post<EndpointDetail & { rolled_back_from?: number | null; rolled_back_to?: number | null }>(
      projectPath(project, `/endpoints/${encodeURIComponent(name)}/${verb}`),
    )
      .then(
        (r) => {
          setError(null);
          setMessage(
            verb === "rollback"
              ? `Rolled back from v${r.rolled_back_from ?? "?"} to v${r.rolled_back_to ?? "?"}.`
              : `Promoted: primary is now v${r.primary_version ?? "?"}.`,
          );
          detail.reload();
        },
        (err: Error) => setError(err),
      )
      .finally(() => setBusy(false));
  };

  return (
    <>
      <p>
        <Link href={projectHref(project, "endpoints")}>All endpoints</Link>
      </p>
      <h1>Endpoint {name}</h1>
      <ErrorBox error={detail.error} />
      {!e && !detail.error && <Loading what="endpoint" />}
      {e && (
        <>
          <div className="stats">
            <Stat label="status" value={e.status} testId="endpoint-status" />
            <Stat label="primary version" value={e.primary_version ?? "—"} testId="endpoint-primary" />
            <Stat label="canary version" value={e.canary_version ?? "—"} testId="endpoint-canary" />
            <Stat label="revision" value={e.revision} />
          </div>
          <Section
            title="Traffic split"
            id="traffic"
            actions={
              roleAtLeast(role, "member") ? (
                <div className="row">
                  <button type="button" className="danger" disabled={busy} onClick={() => act("rollback")}>
                    Roll back
                  </button>
                  <button type="button" disabled={busy || e.canary_version === null} onClick={() => act("promote")}>
                    Promote canary
                  </button>
                </div>
              ) : undefined
            }
          >
            <p>
              Follows <code>{e.primary}</code>
              {e.canary && (
                <>
                  ; canary <code>{e.canary.model}</code> at {e.canary.percent}%
                </>
              )}
              {e.policy && (
                <>
                  {" "}
                  under policy <code>{e.policy}</code>
                </>
              )}
              .
            </p>
            <TrafficBar endpoint={e} />
            {e.rollout && (
              <p className="notice">
                Rolling out v{e.rollout.version} (from v{e.rollout.previous_version ?? "—"}) since{" "}
                {formatTime(e.rollout.started_at)}.
              </p>
            )}
            {message && (
              <p role="status" className="ok" data-testid="endpoint-message">
                {message}
              </p>
            )}
            <ErrorBox error={error} />
            {e.canary_judgement && <CanaryJudgement judgement={e.canary_judgement} slo={e.slo} />}
            <p className="muted small">
              Canary guard, per SLO once each arm has {e.slo.min_requests} requests in {e.slo.window_seconds} s: the
              error rate fails when significantly higher (p &lt; {e.slo.significance}) and more than{" "}
              {formatPercent(e.slo.max_error_rate_increase)} above the primary&apos;s; latency fails when significantly
              slower (Mann-Whitney U), its p95 at least {e.slo.latency_floor_ms} ms, more than {e.slo.latency_margin_ms}{" "}
              ms and ×{e.slo.max_p95_ratio} the primary&apos;s.
            </p>
          </Section>
          <EndpointTraffic project={project} endpoint={name} />
          <Section title="Events" id="events">
            <DataTable
              caption="Endpoint events, newest first"
              testId="endpoint-events"
              rows={e.events}
              rowKey={(x) => x.id}
              columns={[
                { key: "at", header: "When", cell: (x) => formatTime(x.at) },
                { key: "kind", header: "Kind", cell: (x) => x.kind },
                {
                  key: "severity",
                  header: "Severity",
                  cell: (x) => <span className={x.severity === "critical" ? "error" : undefined}>{x.severity}</span>,
                },
                { key: "message", header: "Message", cell: (x) => x.message },
              ]}
            />
          </Section>
          <Section title="Deployments" id="deployments">
            <DataTable
              caption="Deployments of this endpoint, newest first"
              testId="endpoint-deployments"
              rows={e.deployments}
              rowKey={(d) => d.id}
              columns={[
                { key: "started", header: "Started", cell: (d) => formatTime(d.started_at) },
                { key: "version", header: "Version", cell: (d) => (d.version !== null ? `v${d.version}` : "—") },
                {
                  key: "previous",
                  header: "Previous",
                  cell: (d) => (d.previous_version !== null ? `v${d.previous_version}` : "—"),
                },
                { key: "reason", header: "Reason", cell: (d) => d.reason },
                { key: "actor", header: "By", cell: (d) => d.actor },
                { key: "outcome", header: "Outcome", cell: (d) => d.outcome },
                {
                  key: "commit",
                  header: "Commit",
                  cell: (d) => (d.commit ? <code>{d.commit.slice(0, 10)}</code> : "—"),
                },
              ]}
            />
          </Section>
        </>
      )}
    </>
  );
}
