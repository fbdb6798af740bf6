/** Ids per `IN (…)` list: 500 stays below the 999 bound parameters of older SQLite builds. */
export const ID_CHUNK = 500;

/** `items` in consecutive slices of at most `size` (multi-row INSERTs, IN lists). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
