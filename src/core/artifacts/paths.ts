import { InvalidInputError } from "../errors.js";

const SHA256 = /^[0-9a-f]{64}$/;

export function assertSha256(value: string): void {
  if (!SHA256.test(value)) throw new InvalidInputError(`not a sha256 digest: ${JSON.stringify(value)}`);
}

/** A `.` or `..` segment anywhere in a POSIX path. */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/**
 * Checks a path inside a tree (a manifest entry, an artifact path): relative, POSIX, no `..`, no NUL.
 * Returns it normalised (no `./`, no doubled or trailing slashes).
 *
 * A path that is already normal (every manifest the CLI builds: `data add` of 10 000 files checks
 * 10 000) is answered by a few scans, where splitting it on a regular expression and joining it
 * again was most of a re-add's manifest hash; any other path takes the full check,
 * normalisedRelativePath (paths.test.ts compares the two on generated paths).
 */
export function safeRelativePath(path: string): string {
  const plain =
    path !== "" &&
    !path.includes("\\") &&
    !path.includes("\0") &&
    !path.startsWith("/") &&
    !path.endsWith("/") &&
    !path.includes("//") &&
    !DOT_SEGMENT.test(path) &&
    !/^[a-zA-Z]:\//.test(path);
  return plain ? path : normalisedRelativePath(path);
}

/** safeRelativePath's full check, for any path. */
export function normalisedRelativePath(path: string): string {
  if (path.includes("\0")) throw new InvalidInputError(`path contains a NUL byte: ${JSON.stringify(path)}`);
  if (path.startsWith("/") || /^[a-zA-Z]:[\\/]/.test(path) || path.startsWith("\\")) {
    throw new InvalidInputError(`path must be relative: ${JSON.stringify(path)}`);
  }
  const parts = path.split(/[\\/]+/).filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) throw new InvalidInputError(`path must not contain '..': ${JSON.stringify(path)}`);
  if (parts.length === 0) throw new InvalidInputError(`path is empty: ${JSON.stringify(path)}`);
  return parts.join("/");
}
