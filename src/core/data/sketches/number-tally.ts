/**
 * Exact value → count for the numbers of one chunk, as distinct values ascending with their counts —
 * the order the quantile sketch wants (its batch of values seen once is halved level by level), so it
 * never sorts again. Two ways to get there, chosen per chunk from a sample; both give the same tally:
 * - sorting the chunk (sort-numbers.ts) when most values are distinct — continuous columns, where
 *   they must be sorted anyway: a 10 000-row float window costs ~0.3 ms per column this way against
 *   ~2.5 ms for hashing every value, growing the table and sorting the values seen once afterwards;
 * - hashing (number-counter.ts) when values repeat — a 272 727-row chunk of 1 000 distinct values
 *   hashes in ~4 ms against ~8 ms to sort — and then sorting only the distinct values; also for
 *   numbers read out of text, which arrive counted per distinct string.
 */
import { NumberCounter } from "./number-counter.js";
import { sortNumbers } from "./sort-numbers.js";

export interface NumberTally {
  /** Distinct values, ascending; -0 counts as 0. */
  values: Float64Array;
  /** counts[i] is how many times values[i] occurred. */
  counts: Float64Array;
  size: number;
}

/**
 * Chunks shorter than this are always sorted: the sample would be most of the chunk, and short chunks
 * gain little from hashing (10 000 rows of 5 values: ~0.3 ms either way).
 */
const SAMPLE_MIN_LENGTH = 32_768;
const SAMPLE_SIZE = 4096;

/**
 * Counts `values[0..length)` (finite numbers, left unchanged), plus `weighted` values that occurred
 * `counts[i]` times each (numbers read out of text, counted per distinct string).
 */
export function tallyNumbers(
  values: Float64Array,
  length: number,
  weighted?: { values: ArrayLike<number>; counts: ArrayLike<number> },
): NumberTally {
  // Numbers read out of text come already counted per string; the table adds their counts as they are.
  if ((weighted && weighted.values.length > 0) || mostlyRepeated(values, length)) {
    // Sized for what comes (up to 4096 slots up front): a chunk of numbers read out of text arrives as
    // its distinct texts, up to 65 536 of them, and growing from 16 slots rehashed them 13 times.
    const counter = new NumberCounter(Math.min(Math.min(length, 4096) + (weighted?.values.length ?? 0), 65_536));
    for (let i = 0; i < length; i++) counter.add(values[i]!);
    if (weighted)
      for (let i = 0; i < weighted.values.length; i++) counter.add(weighted.values[i]!, weighted.counts[i]!);
    return counter.sortedTally();
  }
  const sorted = sortNumbers(values, length);
  const counts = new Float64Array(length);
  let size = 0;
  for (let i = 0; i < length;) {
    const v = sorted[i]!;
    let j = i + 1;
    while (j < length && sorted[j] === v) j++;
    sorted[size] = v;
    counts[size++] = j - i;
    i = j;
  }
  return { values: sorted, counts, size };
}

/**
 * Whether a long chunk's values repeat enough for hashing to win: an estimated 8 rows or more per
 * distinct value. flights-3m's `delay` (~550 rows per value in a 272 727-row chunk) hashes in ~4 ms
 * against ~9 ms to sort; its `date` (~14 rows per value) costs ~10 ms either way, and so do 5 rows
 * per value. With s values sampled at random from n, a column of d distinct values shows about
 * s²/2d repeats in the sample, so d < n/8 when the sample holds more than 4s²/n repeats.
 */
function mostlyRepeated(values: Float64Array, length: number): boolean {
  if (length < SAMPLE_MIN_LENGTH) return false;
  // Positions from a fixed xorshift sequence, not a stride: in a column stored in order (flights-3m's
  // `date`) equal values sit together, and evenly spaced picks would step over every run of them.
  const sample = new Float64Array(SAMPLE_SIZE);
  let x = 0x9e3779b9;
  for (let i = 0; i < SAMPLE_SIZE; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    sample[i] = values[(x >>> 0) % length]!;
  }
  const sorted = sortNumbers(sample, SAMPLE_SIZE);
  let repeats = 0;
  for (let i = 1; i < SAMPLE_SIZE; i++) if (sorted[i] === sorted[i - 1]) repeats++;
  return repeats > (4 * SAMPLE_SIZE * SAMPLE_SIZE) / length;
}
