import type { Tx } from "../ports.js";
import type { DoraFacts } from "./dora-model.js";
import type { MaturityFacts } from "./maturity-model.js";
import type { Session } from "./sessions.js";

/** Where browser sessions live. Only the sha256 of a session id is ever stored. */
export interface SessionStore {
  insert(session: Session, tx?: Tx): Promise<void>;
  findByHash(idHash: string, tx?: Tx): Promise<Session | null>;
  /** Removes one session; returns it when it existed. */
  deleteByHash(idHash: string, tx?: Tx): Promise<Session | null>;
  /** Removes sessions that expired before `now`; returns how many. */
  deleteExpired(now: number, tx?: Tx): Promise<number>;
}

/** Where the records maturity is graded from are read (every area's, read-only). */
export interface MaturityFactsSource {
  collect(project: string): Promise<MaturityFacts>;
}

/** Where the deployments DORA is computed from are read (serving's records, with registry lineage). */
export interface DoraFactsSource {
  /** Deployments of `project` started between `since` and `until` (ms), any kind and outcome. */
  collect(project: string, since: number, until: number): Promise<DoraFacts>;
}
