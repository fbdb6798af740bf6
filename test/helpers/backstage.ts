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
