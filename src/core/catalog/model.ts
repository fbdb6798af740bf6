/**
 * Glossary (DESIGN.md "Portal"):
 * - Backstage entity: one item of a Backstage software catalog (`apiVersion: backstage.io/v1alpha1`),
 *   identified by kind, namespace and name; relations between entities are entity refs
 *   (`resource:flights/model-flights-delay`).
 * - Catalog facts: what one project holds that the catalog shows — its members, datasets, models
 *   (with the datasets their versions were trained on), endpoints and the pipelines of its applied spec.
 *
 * Mapping (one namespace per project, so two projects may both have a model `churn`):
 *   project → System; its members → a Group (`team`) and Users; dataset → Resource `dataset`;
 *   model → Resource `ai-model` dependsOn its datasets; endpoint → Component `model-server` providing
 *   an API (`openapi` with the OIP v2 and predict routes, `openai` for an LLM endpoint); pipeline →
 *   Component `ml-pipeline`.
 */
import type { ModelSignature } from "../training/signature.js";

export interface CatalogMember {
  user: string;
  displayName: string;
  role: string;
}

export interface CatalogDataset {
  name: string;
  latestVersion: number | null;
  createdBy: string;
}

export interface CatalogModel {
  name: string;
  description: string;
  owner: string;
  latestVersion: number | null;
  /** alias → version */
  aliases: Record<string, number>;
  /** Dataset names any version's lineage names (resolved refs such as `flights@3` → `flights`). */
  datasets: string[];
  /** The newest version's trainer signature, when it has one (its features shape the predict schema). */
  signature: ModelSignature | null;
}

export interface CatalogEndpoint {
  name: string;
  /** The model (or `prompt:NAME` for an LLM endpoint) it serves. */
  model: string;
  primary: string;
  primaryVersion: number | null;
  status: string;
  createdBy: string;
  llm: boolean;
}

export interface CatalogPipeline {
  name: string;
  description: string | null;
  steps: string[];
  triggers: string[];
  /** Datasets it reads (`dataset://NAME@…` inputs, `with.dataset` of builtins). */
  datasets: string[];
  /** Models it registers (`tandem/register`'s `with.model`). */
  models: string[];
}

export interface CatalogFacts {
  project: string;
  description: string;
  createdBy: string;
  members: CatalogMember[];
  datasets: CatalogDataset[];
  models: CatalogModel[];
  endpoints: CatalogEndpoint[];
  pipelines: CatalogPipeline[];
  specVersion: number | null;
}

/** A Backstage entity as its catalog reads it (the envelope; `spec` per kind). */
export interface BackstageEntity {
  apiVersion: "backstage.io/v1alpha1";
  kind: "System" | "Component" | "API" | "Resource" | "Group" | "User";
  metadata: {
    name: string;
    namespace: string;
    title?: string;
    description?: string;
    annotations?: Record<string, string>;
    tags?: string[];
    links?: Array<{ url: string; title: string; icon?: string }>;
  };
  spec: Record<string, unknown>;
}
