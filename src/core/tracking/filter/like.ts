/**
 * SQL LIKE patterns, defined once so the in-memory evaluator, SQLite and Postgres agree:
 * `%` any run of characters, `_` exactly one character (a code point), `\` makes the next character
 * literal (a trailing lone `\` is a literal backslash). LIKE is case-sensitive on every store (SQLite's
 * own LIKE is not, so SQLite gets GLOB); ILIKE folds ASCII letters only — what SQLite's LIKE does, and
 * what Postgres' ILIKE does for ASCII text.
 */

export type LikePart = { kind: "any" } | { kind: "one" } | { kind: "text"; text: string };

export function parseLike(pattern: string): LikePart[] {
  const parts: LikePart[] = [];
  let text = "";
  const flush = () => {
    if (text) parts.push({ kind: "text", text });
    text = "";
  };
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "\\") {
      text += i + 1 < chars.length ? chars[++i]! : "\\";
    } else if (ch === "%") {
      flush();
      parts.push({ kind: "any" });
    } else if (ch === "_") {
      flush();
      parts.push({ kind: "one" });
    } else text += ch;
  }
  flush();
  return parts;
}

export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

const regexCache = new Map<string, RegExp>();

export function likeMatches(value: string, pattern: string, caseInsensitive: boolean): boolean {
  const cacheKey = `${caseInsensitive ? "i" : "s"}${pattern}`;
  let re = regexCache.get(cacheKey);
  if (!re) {
    const source = parseLike(caseInsensitive ? asciiLower(pattern) : pattern)
      .map((p) =>
        p.kind === "any" ? "[\\s\\S]*" : p.kind === "one" ? "[\\s\\S]" : p.text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"),
      )
      .join("");
    re = new RegExp(`^${source}$`, "u");
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(cacheKey, re);
  }
  return re.test(caseInsensitive ? asciiLower(value) : value);
}

/** The pattern for `LIKE ? ESCAPE '\'` with exactly the meaning above. */
export function toSqlLike(pattern: string): string {
  return parseLike(pattern)
    .map((p) => (p.kind === "any" ? "%" : p.kind === "one" ? "_" : p.text.replace(/[\\%_]/g, "\\$&")))
    .join("");
}

/** The same pattern for SQLite's case-sensitive GLOB (`*`, `?`, and `[x]` to quote a character). */
export function toGlob(pattern: string): string {
  return parseLike(pattern)
    .map((p) => (p.kind === "any" ? "*" : p.kind === "one" ? "?" : p.text.replace(/[*?[]/g, "[$&]")))
    .join("");
}
