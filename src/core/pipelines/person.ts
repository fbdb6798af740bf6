/**
 * The human behind automation: who a pipeline run's work belongs to, and a sentence saying why, for
 * four-eyes (the person may not approve what the run registers) and for decision records.
 */
import type { PipelineRun } from "./model.js";

export interface PersonBehind {
  /** Null when nobody is known (an unmapped git pusher, a polled commit). */
  user: string | null;
  /**
   * Who it was as far as anyone can tell when `user` is null: the pusher's git identity
   * (`github:erin-gh`), or null (a polled commit: nobody at all).
   */
  identity?: string | null;
  note: string;
}

export function personBehindRun(run: Pick<PipelineRun, "id" | "triggeredBy" | "trigger">): PersonBehind {
  const user = run.triggeredBy;
  const t = run.trigger;
  const what = `pipeline run ${run.id}`;
  const str = (v: unknown) => (typeof v === "string" && v ? v : null);
  // An event a user fired through the API is theirs, whatever else its payload claims.
  const firedBy = t.kind !== "manual" && t.kind !== "retry" ? str(t.fired_by) : null;
  if (firedBy) return { user, note: `${user ?? "nobody"} fired the ${t.kind} event that started ${what}` };
  switch (t.kind) {
    case "manual":
    case "retry": {
      const from = str(t.from_run);
      return {
        user,
        note: `${user ?? "nobody"} started ${what}${from ? ` from a step of pipeline run ${from}` : " by hand"}`,
      };
    }
    case "schedule":
    case "data":
    case "alert":
      return { user, note: `${user ?? "nobody"} applied the spec whose ${t.kind} trigger started ${what}` };
    case "git": {
      const commit = str(t.commit)?.slice(0, 12) ?? "?";
      const identity = str(t.pusher_identity) ?? (str(t.source) === "poll" ? "a polled commit" : "an unknown pusher");
      return user
        ? { user, note: `${user} pushed commit ${commit} (${identity}) that started ${what}` }
        : {
            user: null,
            identity: str(t.pusher_identity),
            note: `commit ${commit} by ${identity}, mapped to no user, started ${what}`,
          };
    }
  }
}
