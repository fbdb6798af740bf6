import { useState, type FormEvent } from "react";
import { del, projectPath, put } from "../api/client";
import { ROLES, roleAtLeast, type MemberWire, type Role } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { useRole } from "../lib/session";
import { useApi } from "../lib/use-api";

export function MembersSection({ project }: { project: string }) {
  const role = useRole();
  const isAdmin = roleAtLeast(role, "admin");
  const members = useApi<{ members: MemberWire[]; your_role: Role | null }>(projectPath(project, "/members"));
  const [error, setError] = useState<Error | null>(null);
  const [user, setUser] = useState("");
  const [newRole, setNewRole] = useState<Role>("member");

  const act = (p: Promise<unknown>) =>
    p.then(
      () => {
        setError(null);
        members.reload();
      },
      (e: Error) => setError(e),
    );
  const setMember = (name: string, r: Role) =>
    act(put(projectPath(project, `/members/${encodeURIComponent(name)}`), { role: r }));
  const add = (e: FormEvent) => {
    e.preventDefault();
    void setMember(user.trim(), newRole).then(() => setUser(""));
  };

  return (
    <Section title="Members and roles" id="members">
      <p className="muted">
        Roles: viewer &lt; member (run, log, register) &lt; approver (approve gates) &lt; admin. Your role here:{" "}
        <strong data-testid="your-role">{members.data?.your_role ?? "none"}</strong>.
      </p>
      <ErrorBox error={members.error ?? error} />
      {members.loading && !members.data && <Loading what="members" />}
      <DataTable
        caption="Project members"
        testId="members-table"
        rows={members.data?.members ?? []}
        rowKey={(m) => m.user}
        columns={[
          { key: "user", header: "User", cell: (m) => m.user },
          {
            key: "role",
            header: "Role",
            cell: (m) =>
              isAdmin ? (
                <select
                  aria-label={`Role of ${m.user}`}
                  value={m.role}
                  onChange={(e) => void setMember(m.user, e.target.value as Role)}
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              ) : (
                m.role
              ),
          },
          ...(isAdmin
            ? [
                {
                  key: "remove",
                  header: <span className="sr-only">Actions</span>,
                  cell: (m: MemberWire) => (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => void act(del(projectPath(project, `/members/${encodeURIComponent(m.user)}`)))}
                    >
                      Remove {m.user}
                    </button>
                  ),
                },
              ]
            : []),
        ]}
      />
      {isAdmin && (
        <form className="row" onSubmit={add}>
          <label className="field">
            <span>User</span>
            <input value={user} onChange={(e) => setUser(e.target.value)} required />
          </label>
          <label className="field">
            <span>Role</span>
            <select value={newRole} onChange={(e) => setNewRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <button type="submit">Add member</button>
        </form>
      )}
    </Section>
  );
}
