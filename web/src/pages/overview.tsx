import { projectPath, qs } from "../api/client";
import type { AuditEventWire, MemberWire, Role } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Section, Stat } from "../components/status";
import { formatTime } from "../lib/format";
import { useApi } from "../lib/use-api";

export function OverviewPage({ project }: { project: string }) {
  const members = useApi<{ members: MemberWire[]; your_role: Role | null }>(projectPath(project, "/members"));
  const audit = useApi<{ events: AuditEventWire[] }>(projectPath(project, `/audit${qs({ limit: 10 })}`));
  return (
    <>
      <h1>Overview of {project}</h1>
      <div className="stats">
        <Stat label="members" value={members.data?.members.length ?? "—"} testId="stat-members" />
        <Stat label="your role" value={members.data?.your_role ?? "—"} testId="stat-role" />
      </div>
      <Section title="Recent activity" id="recent-activity">
        <ErrorBox error={audit.error} />
        <DataTable
          caption="Recent audit events"
          rows={audit.data?.events ?? []}
          rowKey={(e) => String(e.seq)}
          columns={[
            { key: "at", header: "When", cell: (e) => formatTime(e.at) },
            { key: "actor", header: "Actor", cell: (e) => e.actor },
            { key: "action", header: "Action", cell: (e) => <code>{e.action}</code> },
            { key: "target", header: "Target", cell: (e) => <span className="wrap">{e.target}</span> },
          ]}
        />
      </Section>
    </>
  );
}
