/**
 * The bench's tables: 20 numeric columns (half of them shifted in the current set, every 500th value
 * missing) and 5 categorical ones (one shifted), from a seeded generator so every run sees the same data.
 */

const LABELS = ["red", "green", "blue", "amber", "violet", "grey", "teal", "black"];
export const NUMERIC_COLUMNS = 20;
export const CATEGORICAL_COLUMNS = 5;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = ((t + Math.imul(t ^ (t >>> 7), 61 | t)) >>> 0) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchTable {
  num: Float64Array[];
  cat: Uint8Array[];
}

export function makeTable(rows: number, seed: number, shifted: boolean): BenchTable {
  const rnd = mulberry32(seed);
  const num: Float64Array[] = [];
  for (let c = 0; c < NUMERIC_COLUMNS; c++) {
    const col = new Float64Array(rows);
    const shift = shifted && c % 2 === 0 ? 0.25 : 0;
    for (let i = 0; i < rows; i++) {
      // Box-Muller normal, every 500th value missing (NaN) so the missing path is part of the work.
      const u = rnd() || 1e-12;
      col[i] = i % 500 === 0 ? Number.NaN : shift + c + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
    }
    num.push(col);
  }
  const cat: Uint8Array[] = [];
  for (let c = 0; c < CATEGORICAL_COLUMNS; c++) {
    const col = new Uint8Array(rows);
    const skew = shifted && c === 0 ? 2.2 : 1.5;
    for (let i = 0; i < rows; i++) col[i] = Math.min(LABELS.length - 1, Math.floor(rnd() ** skew * LABELS.length));
    cat.push(col);
  }
  return { num, cat };
}

/** Columns as the drift check takes them in memory (categories as their labels). */
export function asColumns(t: BenchTable, from: number, to: number): Record<string, ArrayLike<unknown>> {
  const out: Record<string, ArrayLike<unknown>> = {};
  t.num.forEach((c, i) => (out[`num_${i}`] = c.subarray(from, to)));
  t.cat.forEach((c, i) => (out[`cat_${i}`] = Array.from(c.subarray(from, to), (k) => LABELS[k]!)));
  return out;
}

/**
 * The table as CSV text, a block of rows at a time . Numbers are written
 * to 7 significant digits (a 1 M-row file is ~190 MB, as in issue 18); missing values as empty fields, as pandas writes NaN.
 */
export function* csvBlocks(t: BenchTable, blockRows = 50_000): Generator<string> {
  const names = [...t.num.map((_, i) => `num_${i}`), ...t.cat.map((_, i) => `cat_${i}`)];
  yield names.join(",") + "\n";
  const rows = t.num[0]?.length ?? t.cat[0]?.length ?? 0;
  for (let from = 0; from < rows; from += blockRows) {
    const lines: string[] = [];
    for (let i = from; i < Math.min(rows, from + blockRows); i++) {
      const fields: string[] = [];
      for (const c of t.num) fields.push(Number.isNaN(c[i]!) ? "" : c[i]!.toPrecision(7));
      for (const c of t.cat) fields.push(LABELS[c[i]!]!);
      lines.push(fields.join(","));
    }
    yield lines.join("\n") + "\n";
  }
}
