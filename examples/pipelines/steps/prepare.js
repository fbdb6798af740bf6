// Synthetic, reproducible data: two features, a label from a noisy linear rule. Seeded, so the same
// --rows always gives the same bytes (and the cache can reuse what depends on it).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { rows: { type: "string" }, out: { type: "string" } } });
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const rows = [];
for (let i = 0; i < Number(values.rows); i++) {
  const a = rand() * 4 - 2;
  const b = rand() * 4 - 2;
  const label = a + 0.5 * b + (rand() - 0.5) * 0.8 > 0 ? 1 : 0;
  rows.push({ a, b, label });
}
const cut = Math.floor(rows.length * 0.8);
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, "train.json"), JSON.stringify(rows.slice(0, cut)));
writeFileSync(join(values.out, "test.json"), JSON.stringify(rows.slice(cut)));
console.error(`prepared ${rows.length} rows`);
