/**
 * The project's MLOps maturity (Google's levels 0–2) as `/maturity` grades it: the level, each
 * criterion with the records that show it (links to runs, decisions, versions, endpoints, alerts) or
 * the next step when it fails, and the level-0 signs found.
 */
import { projectPath } from "../api/client";
import type { CriterionWire, EvidenceWire, MaturityWire } from "../api/portal";
import { ErrorBox, Loading, Section, Stat } from "../components/status";
import { formatTime } from "../lib/format";
import { Link } from "../lib/router";
import { useApi } from "../lib/use-api";

const LEVELS: Record<1 | 2, { title: string; about: string }> = {
  1: {
    title: "Level 1 — ML pipeline automation",
    about: "Training runs as an automated pipeline, continuously, with data and model validation gates.",
  },
  2: {
    title: "Level 2 — CI/CD pipeline automation",
    about: "The pipeline itself is tested and delivered automatically, deployments are checked online.",
  },
};

function EvidenceList({ evidence, label }: { evidence: EvidenceWire[]; label: string }) {
  if (evidence.length === 0) return null;
  return (
    <ul className="evidence" aria-label={label}>
      {/* Two links may cite one record (a spec with two triggered pipelines): the index keeps keys unique. */}
      {evidence.map((e, i) => (
        <li key={`${i}:${e.kind}:${e.id}`} data-evidence={`${e.kind}:${e.id}`}>
          <Link href={e.href}>{e.note}</Link> <span className="muted small">({e.kind.replace("_", " ")})</span>
        </li>
      ))}
    </ul>
  );
}

function CriterionItem({ c }: { c: CriterionWire }) {
  return (
    <li className="criterion" data-criterion={c.id} data-passed={String(c.passed)}>
      <div>
        <span className={c.passed ? "ok" : "error"} aria-hidden="true">
          {c.passed ? "✓" : "✗"}
        </span>{" "}
        <strong>{c.name}</strong> <span className="small muted">{c.passed ? "passed" : "not yet"}</span>
      </div>
      <EvidenceList evidence={c.evidence} label={`Evidence for ${c.name}`} />
      {c.next_step && (
        <p className="small next-step" data-testid={`next-${c.id}`}>
          Next step: {c.next_step}
        </p>
      )}
    </li>
  );
}

export function MaturityPage({ project }: { project: string }) {
  const maturity = useApi<MaturityWire>(projectPath(project, "/maturity"));
  const m = maturity.data;
  return (
    <>
      <h1>MLOps maturity of {project}</h1>
      <p className="muted small">
        Graded from what actually ran (runs, specs, policy decisions, deployments, alerts), after Google&apos;s
        &ldquo;MLOps: Continuous delivery and automation pipelines in machine learning&rdquo;. A level is reached when
        every criterion of it and the levels below passes.
      </p>
      <ErrorBox error={maturity.error} />
      {!m && !maturity.error && <Loading what="maturity" />}
      {m && (
        <>
          <div className="stats">
            <Stat label="level (0–2)" value={m.level} testId="maturity-level" />
            <Stat label="criteria met" value={`${m.passed}/${m.total}`} testId="maturity-passed" />
          </div>
          <p className="small muted" data-testid="maturity-line">
            maturity: level {m.level} ({m.passed}/{m.total} criteria) · graded {formatTime(m.evaluated_at)}
          </p>
          {([1, 2] as const).map((level) => (
            <Section key={level} title={LEVELS[level].title} id={`maturity-level-${level}`}>
              <p className="small muted">{LEVELS[level].about}</p>
              <ul className="criteria">
                {m.criteria
                  .filter((c) => c.level === level)
                  .map((c) => (
                    <CriterionItem key={c.id} c={c} />
                  ))}
              </ul>
            </Section>
          ))}
          <Section title="Level-0 signs" id="maturity-signs">
            {m.signs.length === 0 ? (
              <p className="muted small">None found.</p>
            ) : (
              <ul className="criteria">
                {m.signs.map((s) => (
                  <li key={s.id} className="criterion" data-sign={s.id}>
                    <strong>{s.name}</strong>
                    <EvidenceList evidence={s.evidence} label={`Evidence for ${s.name}`} />
                  </li>
                ))}
              </ul>
            )}
          </Section>
        </>
      )}
    </>
  );
}
