/**
 * Checks a Kubernetes object the way a real API server would, from Kubernetes' published OpenAPI
 * schemas as two npm packages ship them (no network):
 * - `kubernetes-models`: validators compiled from the OpenAPI definitions (types, required fields,
 *   formats). They accept unknown fields, as the OpenAPI document does;
 * - `@kubernetes/client-node`: its models are generated from the same OpenAPI document, and their
 *   attribute maps list every field a type has. A field name outside them is what `kubectl apply`
 *   (strict field validation, the default since 1.27) rejects with `unknown field`, so it fails here.
 */
import * as k8s from "@kubernetes/client-node";

interface AttributeType {
  baseName: string;
  type: string;
}
type ModelClass = { getAttributeTypeMap(): AttributeType[] };
type ValidatingModel = new (data: unknown) => { validate(): void };

const models = k8s as unknown as Record<string, ModelClass | undefined>;

/** The client-node model of an apiVersion and kind: `apps/v1` Deployment → V1Deployment. */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").pop() ?? apiVersion;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

/** Field names not in the schema, as JSON paths (`spec.template.spec.containers[0].resourcez`). */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== "object") return [];
    return Object.entries(value).flatMap(([key, v]) => unknownFields(v, map[1]!, `${path}.${key}`));
  }
  const model = models[type];
  if (!model || typeof model.getAttributeTypeMap !== "function" || typeof value !== "object") return [];
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const fieldType = fields.get(key);
    const at = path ? `${path}.${key}` : key;
    if (fieldType === undefined) out.push(at);
    else out.push(...unknownFields(v, fieldType, at));
  }
  return out;
}

/**
 * Every problem a real API server would report for `object`, each naming its kind, name and field;
 * an empty list when the object is valid.
 */
export async function kubernetesProblems(object: Record<string, unknown>): Promise<string[]> {
  const apiVersion = String(object.apiVersion ?? "");
  const kind = String(object.kind ?? "");
  const metadata = (object.metadata ?? {}) as { name?: string };
  const where = `${kind || "?"} ${metadata.name ?? "(no name)"}`;
  if (!apiVersion || !kind) return [`${where}: apiVersion and kind are required`];
  const problems: string[] = [];
  const name = modelName(apiVersion, kind);
  if (!models[name]) return [`${where}: no published schema for ${apiVersion} ${kind}`];
  problems.push(...unknownFields(object, name, "").map((field) => `${where}: unknown field "${field}"`));
  const modulePath = apiVersion === "v1" ? "kubernetes-models/v1" : `kubernetes-models/${apiVersion}`;
  const module = (await import(modulePath)) as Record<string, ValidatingModel | undefined>;
  const Model = module[kind];
  if (!Model) return [...problems, `${where}: kubernetes-models has no ${apiVersion} ${kind}`];
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
  }
  return problems;
}
