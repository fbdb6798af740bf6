/**
 * HyperLogLog distinct-count sketch (Flajolet et al. 2007) with Ertl's improved estimator (2017),
 * which needs no empirical bias tables and is accurate from 0 to billions.
 *
 * p = 12 → 4096 one-byte registers; relative standard error 1.04/√4096 ≈ 1.6 %. Merge = register-wise
 * max, so the union of two profiles' sketches is exactly the sketch of the union of their rows.
 */
import { InvalidInputError } from "../../errors.js";
import { hashNumberWords } from "./hash.js";

export const HLL_P = 12;
const M = 1 << HLL_P;
/** Bits left for the rank after the index bits of a 32-bit hash. */
const Q = 32 - HLL_P;

export interface HllState {
  p: number;
  /** The registers, base64 (4096 bytes before encoding). */
  registers: string;
}

export class Hll {
  readonly registers: Uint8Array;

  constructor(registers?: Uint8Array) {
    this.registers = registers ?? new Uint8Array(M);
  }

  /** Adds a 32-bit unsigned hash. */
  addHash(hash: number): void {
    const index = hash >>> Q;
    const rest = (hash << HLL_P) >>> 0;
    // Rank = position of the first 1-bit in the remaining Q bits (Q + 1 when they are all zero).
    const rank = rest === 0 ? Q + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  /** Adds `hashNumber` of each of `values[0..size)`, read as words straight from the array's memory. */
  addNumbers(values: Float64Array, size: number): void {
    const words = new Uint32Array(values.buffer, values.byteOffset, 2 * size);
    const registers = this.registers;
    for (let i = 0; i < size; i++) {
      const hash = hashNumberWords(words[2 * i]!, words[2 * i + 1]!);
      // As in addHash, kept in 32-bit integers (clz32 reads `rest` as unsigned either way).
      const rest = hash << HLL_P;
      const rank = rest === 0 ? Q + 1 : Math.clz32(rest) + 1;
      if (rank > registers[hash >>> Q]!) registers[hash >>> Q] = rank;
    }
  }

  merge(other: Hll): void {
    const a = this.registers;
    const b = other.registers;
    for (let i = 0; i < M; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
  }

  /** Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog sketches", §4). */
  estimate(): number {
    // Doubles: with integer counts V8 speculated that counts[0] / M is an integer (it is 0 once every
    // register is set) and deoptimized on each sketch with empty registers — 20 times per bench window.
    const counts = new Float64Array(Q + 2);
    const registers = this.registers;
    for (let i = 0; i < M; i++) counts[registers[i]!]!++;
    let z = M * tau(1 - counts[Q + 1]! / M);
    for (let k = Q; k >= 1; k--) z = 0.5 * (z + counts[k]!);
    z += M * sigma(counts[0]! / M);
    const alphaInf = 1 / (2 * Math.log(2));
    return Math.round((alphaInf * M * M) / z);
  }

  toJSON(): HllState {
    return { p: HLL_P, registers: Buffer.from(this.registers).toString("base64") };
  }

  static fromJSON(state: HllState): Hll {
    if (state.p !== HLL_P)
      throw new InvalidInputError(`HyperLogLog sketch has p=${state.p}; this version reads p=${HLL_P}`);
    const bytes = Buffer.from(state.registers, "base64");
    if (bytes.length !== M)
      throw new InvalidInputError(`HyperLogLog sketch has ${bytes.length} registers, expected ${M}`);
    return new Hll(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length).slice());
  }
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const prev = z;
    z += x * y;
    y += y;
    if (z === prev) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z === prev) return z / 3;
  }
}
