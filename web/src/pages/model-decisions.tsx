import { useEffect, useState, type FormEvent } from "react";
import { post, projectPath } from "../api/client";
import type { ApprovalWire, DecisionWire, OutcomeWire, RequestWire } from "../api/registry";
import { roleAtLeast } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatNumber, formatTime } from "../lib/format";
import { useRole, useSession } from "../lib/session";
import { useApi } from "../lib/use-api";

const show = (v: number | string | null) => (v === null ? "—" : typeof v === "number" ? formatNumber(v) : v);

function Review({
  project,
  name,
  version,
  onReviewed,
}: {
  project: string;
  name: string;
  version: number;
  onReviewed(): void;
}) {
  const [comment, setComment] = useState("");
  const [error, setError] = useState<Error | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const review = (decision: "approve" | "reject") => {
    post<{ approval: ApprovalWire; outcomes: OutcomeWire[] }>(
      projectPath(project, `/models/${encodeURIComponent(name)}/versions/${version}/${decision}`),
      { comment },
    ).then(
      (r) => {
        setError(null);
        const moved = r.outcomes
          .filter((o) => o.status === "applied" && o.alias)
          .map((o) => `${o.alias!.alias} → v${o.alias!.version}`);
        setResult(
          `${r.approval.decision === "approve" ? "Approved" : "Rejected"}.${moved.length ? ` Moved: ${moved.join(", ")}.` : ""}`,
        );
        setComment("");
        onReviewed();
      },
      (err: Error) => setError(err),
    );
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    review("approve");
  };
  return (
    <form onSubmit={submit} className="review">
      <label className="field grow">
        <span>Comment</span>
        <textarea value={comment} onChange={(e) => setComment(e.target.value)} rows={2} />
      </label>
      <div className="row">
        <button type="submit">Approve v{version}</button>
        <button type="button" className="danger" onClick={() => review("reject")}>
          Reject v{version}
        </button>
      </div>
      {result && (
        <p role="status" className="ok" data-testid="review-result">
          {result}
        </p>
      )}
      <ErrorBox error={error} />
    </form>
  );
}

export function DecisionsSection({
  project,
  name,
  version,
  author,
  refresh,
  onReviewed,
}: {
  project: string;
  name: string;
  version: number;
  author: string;
  /** Changes when something elsewhere on the page may have made a new decision. */
  refresh: number;
  onReviewed(): void;
}) {
  const role = useRole();
  const { me } = useSession();
  const data = useApi<{ decisions: DecisionWire[]; requests: RequestWire[]; approvals: ApprovalWire[] }>(
    projectPath(project, `/models/${encodeURIComponent(name)}/versions/${version}/decisions`),
  );
  const { reload } = data;
  useEffect(() => {
    if (refresh > 0) reload();
  }, [refresh, reload]);
  const latest = data.data?.decisions[0] ?? null;
  // The server refuses an author's own approval; the UI does not offer it.
  const canReview = roleAtLeast(role, "approver") && me?.user !== author;
  return (
    <Section title="Policy decisions and approvals" id="decisions">
      <ErrorBox error={data.error} />
      {!data.data && !data.error && <Loading what="decisions" />}
      {data.data && (
        <>
          {latest ? (
            <>
              <p>
                Latest decision for {latest.target.kind} <code>{latest.target.name}</code>:{" "}
                <strong data-testid="decision-verdict">{latest.verdict}</strong> ({formatTime(latest.at)}).
              </p>
              <DataTable
                caption="Checks of the latest decision"
                testId="decision-checks"
                rows={latest.checks}
                rowKey={(c) => `${c.policy}/${c.check}`}
                columns={[
                  { key: "policy", header: "Policy", cell: (c) => c.policy },
                  { key: "check", header: "Check", cell: (c) => c.check },
                  { key: "value", header: "Value", numeric: true, cell: (c) => show(c.value) },
                  { key: "threshold", header: "Threshold", numeric: true, cell: (c) => show(c.threshold) },
                  {
                    key: "outcome",
                    header: "Outcome",
                    cell: (c) => (
                      <span className={c.outcome === "fail" ? "error" : c.outcome === "pass" ? "ok" : "warn"}>
                        {c.outcome}
                      </span>
                    ),
                  },
                  { key: "detail", header: "Detail", cell: (c) => c.detail },
                ]}
              />
            </>
          ) : (
            <p className="muted">No policy decision for this version yet.</p>
          )}
          {data.data.requests.length > 0 && (
            <DataTable
              caption="Promotion requests"
              testId="requests-table"
              rows={data.data.requests}
              rowKey={(r) => r.id}
              columns={[
                { key: "target", header: "Target", cell: (r) => `${r.target.kind} ${r.target.name}` },
                { key: "status", header: "Status", cell: (r) => r.status },
                { key: "by", header: "Requested by", cell: (r) => r.requested_by },
                { key: "at", header: "When", cell: (r) => formatTime(r.created_at) },
              ]}
            />
          )}
          <h3>Approvals</h3>
          {data.data.approvals.length === 0 ? (
            <p className="muted">None yet.</p>
          ) : (
            <DataTable
              caption="Approvals"
              testId="approvals-table"
              rows={data.data.approvals}
              rowKey={(a) => a.id}
              columns={[
                { key: "user", header: "User", cell: (a) => a.user },
                { key: "role", header: "Role", cell: (a) => a.role },
                { key: "decision", header: "Decision", cell: (a) => a.decision },
                { key: "comment", header: "Comment", cell: (a) => a.comment },
                { key: "at", header: "When", cell: (a) => formatTime(a.at) },
              ]}
            />
          )}
          {canReview && <Review project={project} name={name} version={version} onReviewed={onReviewed} />}
        </>
      )}
    </Section>
  );
}
