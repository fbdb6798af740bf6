/**
 * How a guide's shown output is compared with what its block printed: both sides go through the same
 * normalisations (declared once, here), so a guide can show a real-looking id, time or port and still
 * match. A line that is exactly `...` matches any number of lines (none included).
 */

/** [what, pattern, replacement] — applied in order to the expected and the actual text alike. */
export const NORMALISATIONS: [string, RegExp, string][] = [
  // Before the hex ids: a token's random characters may hold a run of hex digits.
  ["tokens", /\btdm_[A-Za-z0-9_-]{20,}/g, "tdm_<token>"],
  ["ISO timestamps", /\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?\b/g, "<time>"],
  ["dates", /\b\d{4}-\d\d-\d\d\b/g, "<date>"],
  ["UUIDs", /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<id>"],
  // A Slurm job name ends in the run id's first 8 hex characters, which may all be digits (no letter
  // for the rule below to see): executors.md failed a CI run on `tandem.default.hello.greet.61691419`.
  ["Slurm job names", /\b(tandem(?:\.[\w-]+){3})\.[0-9a-f]{8}\b/g, "$1.<id>"],
  // Tandem's ids are 32 hex characters (shortened to 12 in places), blobs are sha256: 64.
  ["hex ids and hashes", /\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,64}\b/g, "<id>"],
  ["ports", /\b(127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\]):\d{2,5}\b/g, "$1:<port>"],
  ["durations", /\b\d+(\.\d+)?(ns|µs|us|ms|s|min|m|h)\b|\b\d+(\.\d+)? (ms|s)\b/g, "<duration>"],
  ["relative times", /\b\d+ (second|minute|hour|day)s? ago\b/g, "<ago>"],
  // Table columns widen or narrow with the values above: runs of blanks count as one.
  ["blanks", /[ \t]+/g, " "],
];

/** The paths a guide may show: its folder as `~/guide`, and the temp folders `mktemp` makes. */
export function normalise(text: string, paths: { dir: string; tmp: string }): string {
  // eslint-disable-next-line no-control-regex -- colour codes start with ESC, on purpose
  let out = text.replace(/\r/g, "").replace(/\x1b\[[0-9;]*m/g, "");
  out = out.split(paths.tmp).join("/tmp").split(paths.dir).join("~/guide");
  out = out.replace(/\/tmp\/tmp\.[A-Za-z0-9]+/g, "/tmp/tmp.XXXXXXXXXX");
  for (const [, pattern, replacement] of NORMALISATIONS) out = out.replace(pattern, replacement);
  return out
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .replace(/^\n+|\n+$/g, "");
}

/** Whether `actual` matches `expected` (both normalised), where an expected `...` line matches any lines. */
export function matches(expected: string, actual: string): boolean {
  const want = expected.split("\n");
  const got = actual.split("\n");
  const memo = new Map<number, boolean>();
  const at = (i: number, j: number): boolean => {
    const key = i * (got.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === want.length) result = j === got.length;
    else if (want[i]!.trim() === "...") result = at(i + 1, j) || (j < got.length && at(i, j + 1));
    else result = j < got.length && want[i] === got[j] && at(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return at(0, 0);
}
