import { InvalidInputError } from "../errors.js";

const SHA256 = /^[0-9a-f]{64}$/;

export function assertSha256(value: string): void {
  if (!SHA256.test(value)) throw new InvalidInputError(`not a sha256 digest: ${JSON.stringify(value)}`);
}

/**
 * Checks a path inside a tree (a manifest entry, an artifact path): relative, POSIX, no `..`, no NUL.
 * Returns it normalised (no `./`, no doubled or trailing slashes).
 */
export function safeRelativePath(path: string): string {
  if (path.includes("\0")) throw new InvalidInputError(`path contains a NUL byte: ${JSON.stringify(path)}`);
  if (path.startsWith("/") || /^[a-zA-Z]:[\\/]/.test(path) || path.startsWith("\\")) {
    throw new InvalidInputError(`path must be relative: ${JSON.stringify(path)}`);
  }
  const parts = path.split(/[\\/]+/).filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) throw new InvalidInputError(`path must not contain '..': ${JSON.stringify(path)}`);
  if (parts.length === 0) throw new InvalidInputError(`path is empty: ${JSON.stringify(path)}`);
  return parts.join("/");
}
