import { useState, type FormEvent } from "react";
import { post } from "../api/client";
import type { UserWire } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { useSession } from "../lib/session";
import { useApi } from "../lib/use-api";
import { MembersSection } from "./settings-members";
import { TokensSection } from "./settings-tokens";

function UsersSection() {
  const users = useApi<{ users: UserWire[] }>("/api/v1/users");
  const [name, setName] = useState("");
  const [error, setError] = useState<Error | null>(null);
  const add = (e: FormEvent) => {
    e.preventDefault();
    post("/api/v1/users", { name: name.trim() }).then(
      () => {
        setName("");
        setError(null);
        users.reload();
      },
      (err: Error) => setError(err),
    );
  };
  return (
    <Section title="Users (site administration)" id="users">
      <ErrorBox error={users.error ?? error} />
      <DataTable
        caption="Users"
        testId="users-table"
        rows={users.data?.users ?? []}
        rowKey={(u) => u.name}
        columns={[
          { key: "name", header: "Name", cell: (u) => u.name },
          { key: "display", header: "Display name", cell: (u) => u.display_name },
          { key: "admin", header: "Site admin", cell: (u) => (u.is_admin ? "yes" : "no") },
          { key: "created", header: "Created", cell: (u) => formatTime(u.created_at) },
        ]}
      />
      <form className="row" onSubmit={add}>
        <label className="field">
          <span>New user</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <button type="submit">Add user</button>
      </form>
    </Section>
  );
}

export function SettingsPage({ project }: { project: string }) {
  const { me } = useSession();
  const siteAdmin = Boolean(
    me?.is_admin && (me.token_role === null || me.token_role === "admin") && me.token_project === null,
  );
  return (
    <>
      <h1>Settings</h1>
      <MembersSection project={project} />
      <TokensSection project={project} />
      {siteAdmin && <UsersSection />}
    </>
  );
}
