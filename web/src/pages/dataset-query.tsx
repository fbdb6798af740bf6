/**
 * The SQL preview of a dataset version: a viewer types one SELECT over the version's tabular files
 * (each file a view, `dataset` all of them) and sees the first rows. The server runs it read-only in
 * DuckDB with file access off (POST …/versions/V/query); this section only asks and shows, including
 * the server's error, which quotes the statement it refused.
 */
import { useState, type FormEvent } from "react";
import { post, projectPath } from "../api/client";
import { DataTable } from "../components/table";
import { ErrorBox, Section } from "../components/status";

/** The route's bounds (src/core/data/query.ts: 100 rows unless asked, at most 10 000). */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

interface ResultRow {
  i: number;
  cells: unknown[];
}

interface QueryResultWire {
  dataset: string;
  views: { name: string; file: string | null }[];
  columns: { name: string; type: string }[];
  rows: unknown[][];
  truncated: boolean;
  limit: number;
}

/** A cell as text: NULL spelled out, objects (lists, structs) as JSON. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function DatasetQuerySection({ project, name, version }: { project: string; name: string; version: string }) {
  const [sql, setSql] = useState("SELECT * FROM dataset");
  const [limit, setLimit] = useState(String(DEFAULT_LIMIT));
  const [result, setResult] = useState<QueryResultWire | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [running, setRunning] = useState(false);

  const run = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
      setError(new Error(`Row limit must be a whole number from 1 to ${MAX_LIMIT}, not "${limit}".`));
      return;
    }
    setRunning(true);
    setError(null);
    const path = projectPath(
      project,
      `/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/query`,
    );
    post<QueryResultWire>(path, { sql, limit: n }).then(
      (r) => {
        setResult(r);
        setRunning(false);
      },
      (err: Error) => {
        setResult(null);
        setError(err);
        setRunning(false);
      },
    );
  };

  const rows: ResultRow[] = (result?.rows ?? []).map((cells, i) => ({ i, cells }));
  return (
    <Section title="SQL preview" id="sql-preview">
      <p className="muted small">
        One read-only SELECT over this version&apos;s tabular files: <code>dataset</code> holds all of them
        {result && result.views.length > 0 && (
          <>, and each file is a view of its own ({result.views.map((v) => v.name).join(", ")})</>
        )}
        .
      </p>
      <form onSubmit={run} className="review" noValidate>
        <label className="field grow">
          <span>SQL</span>
          <textarea
            value={sql}
            onChange={(e) => setSql(e.target.value)}
            rows={3}
            spellCheck={false}
            data-testid="query-sql"
          />
        </label>
        <div className="row">
          <label className="field">
            <span>Row limit</span>
            <input
              type="number"
              min={1}
              max={MAX_LIMIT}
              value={limit}
              onChange={(e) => setLimit(e.target.value)}
              data-testid="query-limit"
            />
          </label>
          <button type="submit" disabled={running}>
            {running ? "Running…" : "Run query"}
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {result && (
        <>
          <p role="status" className="small" data-testid="query-summary">
            {result.rows.length} {result.rows.length === 1 ? "row" : "rows"} from {result.dataset}
            {result.truncated && ` (stopped at the limit of ${result.limit}; more rows match)`}
          </p>
          <DataTable
            caption={`Result of the SQL preview over ${result.dataset}`}
            testId="query-result"
            rows={rows}
            rowKey={(r) => String(r.i)}
            empty="The query returned no rows."
            columns={result.columns.map((c, ci) => ({
              key: `c${ci}`,
              header: (
                <>
                  {c.name} <span className="muted small">{c.type}</span>
                </>
              ),
              cell: (r: ResultRow) => cellText(r.cells[ci]),
            }))}
          />
        </>
      )}
    </Section>
  );
}
