/** Wire types of the portal routes: maturity (`/maturity`) and DORA (`/dora`). */

export interface EvidenceWire {
  kind: "run" | "spec" | "decision" | "alert" | "deployment" | "model_version" | "endpoint";
  id: string;
  /** The record's page in this UI (`/p/{project}/…`). */
  href: string;
  note: string;
}

export interface CriterionWire {
  id: string;
  name: string;
  level: 1 | 2;
  passed: boolean;
  evidence: EvidenceWire[];
  next_step: string | null;
}

export interface MaturityWire {
  project: string;
  level: 0 | 1 | 2;
  passed: number;
  total: number;
  criteria: CriterionWire[];
  signs: Array<{ id: string; name: string; evidence: EvidenceWire[] }>;
  evaluated_at: number;
}
