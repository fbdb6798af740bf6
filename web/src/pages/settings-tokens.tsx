import { useState, type FormEvent } from "react";
import { del, post } from "../api/client";
import { ROLES, type Role, type TokenWire } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { useApi } from "../lib/use-api";

export function TokensSection({ project }: { project: string }) {
  const tokens = useApi<{ tokens: TokenWire[] }>("/api/v1/tokens");
  const [error, setError] = useState<Error | null>(null);
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role | "">("");
  const [onlyHere, setOnlyHere] = useState(true);
  const [made, setMade] = useState<string | null>(null);

  const create = (e: FormEvent) => {
    e.preventDefault();
    post<TokenWire & { token: string }>("/api/v1/tokens", {
      name: name.trim(),
      role: role || null,
      project: onlyHere ? project : null,
    }).then(
      (t) => {
        setMade(t.token);
        setName("");
        setError(null);
        tokens.reload();
      },
      (err: Error) => setError(err),
    );
  };
  const revoke = (id: string) =>
    del(`/api/v1/tokens/${encodeURIComponent(id)}`).then(
      () => tokens.reload(),
      (err: Error) => setError(err),
    );

  return (
    <Section title="API tokens" id="tokens">
      <ErrorBox error={tokens.error ?? error} />
      <DataTable
        caption="Your API tokens"
        testId="tokens-table"
        rows={tokens.data?.tokens ?? []}
        rowKey={(t) => t.id}
        columns={[
          { key: "name", header: "Name", cell: (t) => t.name },
          { key: "user", header: "User", cell: (t) => t.user },
          { key: "role", header: "Role cap", cell: (t) => t.role ?? "—" },
          { key: "project", header: "Project", cell: (t) => t.project ?? "all" },
          { key: "created", header: "Created", cell: (t) => formatTime(t.created_at) },
          {
            key: "state",
            header: "State",
            cell: (t) => (t.revoked_at ? `revoked ${formatTime(t.revoked_at)}` : "active"),
          },
          {
            key: "revoke",
            header: <span className="sr-only">Actions</span>,
            cell: (t) =>
              t.revoked_at ? null : (
                <button type="button" className="secondary" onClick={() => void revoke(t.id)}>
                  Revoke {t.name}
                </button>
              ),
          },
        ]}
      />
      <form className="row" onSubmit={create}>
        <label className="field">
          <span>New token name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label className="field">
          <span>Role cap</span>
          <select value={role} onChange={(e) => setRole(e.target.value as Role | "")}>
            <option value="">none (my roles)</option>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={onlyHere} onChange={(e) => setOnlyHere(e.target.checked)} />
          <span>Only project {project}</span>
        </label>
        <button type="submit">Create token</button>
      </form>
      {made && (
        <div className="notice" role="status">
          <p>Copy this token now; it is not shown again:</p>
          <code className="wrap" data-testid="new-token">
            {made}
          </code>
        </div>
      )}
    </Section>
  );
}
