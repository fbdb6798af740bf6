/**
 * The seeded sample generator shared with scripts/make-scipy-fixtures.py: mulberry32 uniforms, normals
 * as a sum of 12 uniforms (exact in binary floating point, so Python and Node see identical numbers).
 */
export type SampleSpec =
  | { kind: "normal"; seed: number; n: number; loc: number; scale: number; step?: number }
  | { kind: "cat"; seed: number; n: number; weights: number[] };

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = ((t + Math.imul(t ^ (t >>> 7), 61 | t)) >>> 0) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function expandSample(spec: SampleSpec): Float64Array | string[] {
  const rnd = mulberry32(spec.seed);
  if (spec.kind === "normal") {
    const out = new Float64Array(spec.n);
    for (let i = 0; i < spec.n; i++) {
      let s = 0;
      for (let k = 0; k < 12; k++) s += rnd();
      let x = spec.loc + spec.scale * (s - 6);
      if (spec.step) x = Math.floor(x / spec.step) * spec.step;
      out[i] = x;
    }
    return out;
  }
  const total = spec.weights.reduce((a, b) => a + b, 0);
  const out: string[] = [];
  for (let i = 0; i < spec.n; i++) {
    const u = rnd() * total;
    let acc = 0;
    let k = spec.weights.length - 1;
    for (let j = 0; j < spec.weights.length; j++) {
      acc += spec.weights[j]!;
      if (u < acc) {
        k = j;
        break;
      }
    }
    out.push(`c${k}`);
  }
  return out;
}
