import { useEffect, useState } from "react";
import { get, projectPath, qs } from "../api/client";
import type { AuditEventWire } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { useSession } from "../lib/session";

const PAGE = 50;

function VerifyChain() {
  const [result, setResult] = useState<{ ok: boolean; events: number; reason: string | null } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const verify = () => {
    setError(null);
    get<{ ok: boolean; events: number; reason: string | null }>("/api/v1/audit/verify").then(setResult, (e: Error) =>
      setError(e),
    );
  };
  return (
    <div className="row">
      <button type="button" onClick={verify}>
        Verify the hash chain
      </button>
      {result && (
        <span role="status" className={result.ok ? "ok" : "error"} data-testid="audit-verify">
          {result.ok ? `Chain intact: ${result.events} events` : `Broken: ${result.reason}`}
        </span>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

export function AuditPage({ project }: { project: string }) {
  const { me } = useSession();
  const [events, setEvents] = useState<AuditEventWire[]>([]);
  const [more, setMore] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [filter, setFilter] = useState("");

  const load = (before?: number) => {
    setLoading(true);
    get<{ events: AuditEventWire[] }>(projectPath(project, `/audit${qs({ limit: PAGE, before })}`))
      .then((r) => {
        setEvents((old) => (before === undefined ? r.events : [...old, ...r.events]));
        setMore(r.events.length === PAGE);
        setError(null);
      })
      .catch((e: Error) => setError(e))
      .finally(() => setLoading(false));
  };
  // Reload from the newest event whenever the project changes.
  useEffect(() => load(), [project]);

  const needle = filter.trim().toLowerCase();
  const shown = needle
    ? events.filter((e) =>
        [e.actor, e.action, e.target, JSON.stringify(e.summary)].some((s) => s.toLowerCase().includes(needle)),
      )
    : events;
  return (
    <>
      <h1>Audit log</h1>
      <Section title="Events" id="audit-events" actions={me?.is_admin ? <VerifyChain /> : undefined}>
        <label className="field">
          <span>Filter by actor, action, target</span>
          <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
        <ErrorBox error={error} />
        <DataTable
          caption="Audit events, newest first"
          testId="audit-table"
          rows={shown}
          rowKey={(e) => String(e.seq)}
          columns={[
            { key: "seq", header: "#", numeric: true, cell: (e) => e.seq },
            { key: "at", header: "When", cell: (e) => formatTime(e.at) },
            { key: "actor", header: "Actor", cell: (e) => e.actor },
            { key: "action", header: "Action", cell: (e) => <code>{e.action}</code> },
            { key: "target", header: "Target", cell: (e) => <span className="wrap">{e.target}</span> },
            {
              key: "summary",
              header: "Summary",
              cell: (e) => (
                <span className="wrap small">{Object.keys(e.summary).length ? JSON.stringify(e.summary) : ""}</span>
              ),
            },
            { key: "hash", header: "Hash", cell: (e) => <code title={e.hash}>{e.hash.slice(0, 10)}</code> },
          ]}
        />
        {loading && <Loading what="events" />}
        {more && !loading && events.length > 0 && (
          <button type="button" onClick={() => load(events[events.length - 1]!.seq)}>
            Older events
          </button>
        )}
      </Section>
    </>
  );
}
