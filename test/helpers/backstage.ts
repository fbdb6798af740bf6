/**
 * Checks Backstage entities the way a Backstage catalog does when it ingests them: with
 * @backstage/catalog-model's own entity policies and per-kind validators, then that every relation
 * names an entity in the same set (Backstage shows a dangling ref as an error on the entity page).
 */
import {
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  DefaultNamespaceEntityPolicy,
  FieldFormatEntityPolicy,
  groupEntityV1alpha1Validator,
  NoForeignRootFieldsEntityPolicy,
  resourceEntityV1alpha1Validator,
  SchemaValidEntityPolicy,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  parseEntityRef,
  stringifyEntityRef,
  type Entity,
} from "@backstage/catalog-model";
import { expect } from "vitest";

const validators = [
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
];

/** The catalog's default policies (namespace, field formats, no foreign root fields, envelope schema). */
export async function enforceEntityPolicies(entity: Entity): Promise<void> {
  for (const policy of [
    new SchemaValidEntityPolicy(),
    new DefaultNamespaceEntityPolicy(),
    new NoForeignRootFieldsEntityPolicy(),
    new FieldFormatEntityPolicy(),
  ])
    await policy.enforce(structuredClone(entity));
}

/** Refs of an entity's relations, by field (as catalog-model's processors read them). */
function relationRefs(e: Entity): Array<{ field: string; ref: string }> {
  const spec = (e.spec ?? {}) as Record<string, unknown>;
  const out: Array<{ field: string; ref: string }> = [];
  for (const field of ["owner", "system", "parent", "domain"])
    if (typeof spec[field] === "string") out.push({ field, ref: spec[field] });
  for (const field of ["dependsOn", "providesApis", "consumesApis", "memberOf", "members", "children", "dependencyOf"])
    for (const ref of (spec[field] as string[] | undefined) ?? []) out.push({ field, ref });
  return out;
}

export async function expectValidBackstage(items: Entity[]): Promise<void> {
  expect(items.length).toBeGreaterThan(0);
  const names = new Set<string>();
  for (const e of items) {
    const where = `${e.kind}:${e.metadata.namespace}/${e.metadata.name}`;
    await enforceEntityPolicies(e);
    let checked = 0;
    for (const v of validators) {
      try {
        if (await v.check(structuredClone(e))) checked++;
      } catch (error) {
        throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
      }
    }
    expect(checked, `${where}: no validator of catalog-model knows it`).toBe(1);
    const ref = stringifyEntityRef(e);
    expect(names.has(ref), `${ref} emitted twice`).toBe(false);
    names.add(ref);
  }
  for (const e of items) {
    for (const { field, ref } of relationRefs(e)) {
      // Full refs only: a Backstage instance resolves a short ref against its own defaults.
      expect(ref, `${e.metadata.name}.spec.${field}`).toMatch(/^[a-z]+:[^/]+\/.+$/);
      const target = stringifyEntityRef(parseEntityRef(ref));
      expect(names.has(target), `${stringifyEntityRef(e)}.spec.${field} → ${ref}: no such entity`).toBe(true);
    }
  }
}

/**
 * A Software Template (`scaffolder.backstage.io/v1beta3`): the catalog's entity policies, then the
 * kind's required shape as Backstage's Template.v1beta3 schema states it (spec.type; steps, each with
 * an action; parameters an object or a list of objects; output links and text). Checked here rather
 * than with @backstage/plugin-scaffolder-common, whose install brings about 100 packages (Azure,
 * Octokit) for one schema.
 */
export async function expectValidTemplate(t: Entity): Promise<void> {
  await enforceEntityPolicies(t);
  expect(t.apiVersion).toBe("scaffolder.backstage.io/v1beta3");
  expect(t.kind).toBe("Template");
  const spec = t.spec as Record<string, unknown>;
  expect(typeof spec.type === "string" && spec.type.length > 0, "spec.type").toBe(true);
  expect(Array.isArray(spec.steps), "spec.steps").toBe(true);
  for (const step of spec.steps as Array<Record<string, unknown>>) {
    expect(typeof step.action, "steps[].action").toBe("string");
    if (step.id !== undefined) expect(typeof step.id).toBe("string");
    if (step.input !== undefined) expect(typeof step.input).toBe("object");
  }
  const params = Array.isArray(spec.parameters) ? spec.parameters : [spec.parameters];
  for (const p of params) expect(typeof p === "object" && p !== null, "spec.parameters").toBe(true);
  const output = (spec.output ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(output)) {
    if (key === "links" || key === "text") expect(Array.isArray(value), `output.${key}`).toBe(true);
    else expect(typeof value, `output.${key}`).toBe("string");
  }
  for (const l of (output.links ?? []) as Array<Record<string, unknown>>)
    expect(typeof l.url === "string" || typeof l.entityRef === "string", "output.links[]: url or entityRef").toBe(true);
}
