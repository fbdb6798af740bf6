/** What the benchmarks share: their command-line numbers and the one JSON line per measurement. */

/** `--name N` from the bench's arguments, else the fallback. */
export function numberFlag(name: string, fallback: number, args = process.argv.slice(2)): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/**
 * Prints measurements of one bench as `{"bench", "measure", "tandem", "baseline", "unit", "ratio"}`
 * lines; `extra` adds fields such as a goal, which never stands in for the baseline.
 */
export function emitterFor(bench: string) {
  return (
    measure: string,
    tandem: number,
    baseline: number | null,
    unit: string,
    ratio: number | null,
    extra: Record<string, unknown> = {},
  ): void => {
    process.stdout.write(`${JSON.stringify({ bench, measure, tandem, baseline, unit, ratio, ...extra })}\n`);
  };
}
