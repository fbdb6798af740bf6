/**
 * Prompts: the list, one prompt (versions, aliases and their history, evaluations), one version
 * (messages, parameters, the evaluations that judged it), a side-by-side diff of two versions and
 * an evaluation's per-case table. Paths: prompts[/NAME[/versions/V | /diff?a=&b= | /evaluations/ID]].
 */
import { useState } from "react";
import { projectPath, qs } from "../api/client";
import type { AliasEventWire, PromptSummaryWire, PromptWire } from "../api/llm";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { Link, navigate, projectHref, useLocation } from "../lib/router";
import { useApi } from "../lib/use-api";
import { EvalCasesPage, EvaluationsTable, PromptDiffPage, PromptVersionPage } from "./prompt-version";

export function PromptsPage({ project, path = [] }: { project: string; path?: string[] }) {
  const url = useLocation();
  const [name, sub, id] = path;
  if (!name) return <PromptList project={project} />;
  if (sub === "versions" && id) return <PromptVersionPage project={project} name={name} version={id} />;
  if (sub === "diff")
    return (
      <PromptDiffPage
        project={project}
        name={name}
        a={url.searchParams.get("a") ?? ""}
        b={url.searchParams.get("b") ?? ""}
      />
    );
  if (sub === "evaluations" && id) return <EvalCasesPage project={project} name={name} id={id} />;
  return <PromptDetail project={project} name={name} />;
}

function PromptList({ project }: { project: string }) {
  const list = useApi<{ prompts: PromptSummaryWire[] }>(projectPath(project, "/prompts"));
  return (
    <>
      <h1>Prompts</h1>
      <Section title="Prompt registry" id="prompts">
        <ErrorBox error={list.error} />
        {list.loading && !list.data && <Loading what="prompts" />}
        {list.data && (
          <DataTable
            caption="Prompts"
            testId="prompts-table"
            rows={list.data.prompts}
            rowKey={(p) => p.name}
            empty="No prompts yet: create one with tandem prompts create NAME --file prompt.yaml."
            columns={[
              {
                key: "name",
                header: "Prompt",
                cell: (p) => <Link href={projectHref(project, "prompts", p.name)}>{p.name}</Link>,
              },
              { key: "latest", header: "Latest", cell: (p) => (p.latest_version ? `v${p.latest_version}` : "—") },
              {
                key: "aliases",
                header: "Aliases",
                cell: (p) => p.aliases.map((a) => `${a.alias} → v${a.version}`).join(", ") || "—",
              },
              { key: "description", header: "Description", cell: (p) => p.description || "—" },
              { key: "updated", header: "Updated", cell: (p) => formatTime(p.updated_at) },
            ]}
          />
        )}
      </Section>
    </>
  );
}

function VersionSelect(props: {
  label: string;
  value: string;
  versions: Array<{ version: number }>;
  onChange(value: string): void;
}) {
  return (
    <label className="field">
      <span>{props.label}</span>
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {props.versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version}
          </option>
        ))}
      </select>
    </label>
  );
}

function PromptDetail({ project, name }: { project: string; name: string }) {
  const base = `/prompts/${encodeURIComponent(name)}`;
  const prompt = useApi<PromptWire>(projectPath(project, base));
  const history = useApi<{ events: AliasEventWire[] }>(projectPath(project, `${base}/history`));
  const [a, setA] = useState("");
  const [b, setB] = useState("");
  const p = prompt.data;
  const versions = p?.versions ?? [];
  const diffA = a || String(versions[1]?.version ?? "");
  const diffB = b || String(versions[0]?.version ?? "");
  return (
    <>
      <h1>Prompt {name}</h1>
      <ErrorBox error={prompt.error} />
      {!p && prompt.loading && <Loading what="prompt" />}
      {p && (
        <>
          <Section title="Versions" id="prompt-versions">
            <DataTable
              caption="Versions, newest first"
              testId="prompt-versions"
              rows={p.versions}
              rowKey={(v) => String(v.version)}
              columns={[
                {
                  key: "version",
                  header: "Version",
                  cell: (v) => (
                    <Link href={projectHref(project, "prompts", name, "versions", String(v.version))}>
                      v{v.version}
                    </Link>
                  ),
                },
                { key: "aliases", header: "Aliases", cell: (v) => v.aliases.join(", ") || "—" },
                { key: "model", header: "Model", cell: (v) => String(v.params.model ?? "—") },
                { key: "variables", header: "Variables", cell: (v) => v.variables.join(", ") || "—" },
                { key: "author", header: "Author", cell: (v) => v.author },
                { key: "created", header: "Created", cell: (v) => formatTime(v.created_at) },
              ]}
            />
            {versions.length > 1 && (
              <form
                className="row"
                onSubmit={(e) => {
                  e.preventDefault();
                  navigate(projectHref(project, "prompts", name, "diff") + qs({ a: diffA, b: diffB }));
                }}
              >
                <VersionSelect label="From" value={diffA} versions={versions} onChange={setA} />
                <VersionSelect label="To" value={diffB} versions={versions} onChange={setB} />
                <button type="submit">Compare side by side</button>
              </form>
            )}
          </Section>
          <Section title="Alias history" id="alias-history">
            <ErrorBox error={history.error} />
            <DataTable
              caption="Alias moves, oldest first"
              testId="alias-history"
              rows={history.data?.events ?? []}
              rowKey={(e) => String(e.seq)}
              empty="No alias was ever set."
              columns={[
                { key: "at", header: "When", cell: (e) => formatTime(e.at) },
                { key: "alias", header: "Alias", cell: (e) => e.alias },
                { key: "action", header: "Action", cell: (e) => e.action },
                {
                  key: "move",
                  header: "Move",
                  cell: (e) =>
                    `${e.from_version !== null ? `v${e.from_version}` : "—"} → ${e.to_version !== null ? `v${e.to_version}` : "—"}`,
                },
                { key: "actor", header: "By", cell: (e) => e.actor },
                { key: "reason", header: "Reason", cell: (e) => <span className="wrap">{e.reason || "—"}</span> },
              ]}
            />
          </Section>
          <Section title="Evaluations" id="prompt-evaluations">
            <EvaluationsTable
              project={project}
              name={name}
              rows={p.evaluations}
              caption="Evaluations of this prompt, newest first"
              testId="prompt-evaluations"
              empty="No evaluation yet: run a pipeline step with uses: tandem/eval."
              showVersion
            />
          </Section>
        </>
      )}
    </>
  );
}
