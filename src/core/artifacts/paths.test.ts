import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../test/helpers/seeded.js";
import { normalisedRelativePath, safeRelativePath } from "./paths.js";

/** What a check answers: the path it returns, or the message it throws. */
function outcome(check: (p: string) => string, path: string): string {
  try {
    return `ok ${check(path)}`;
  } catch (error) {
    return `error ${(error as Error).message}`;
  }
}

describe("safeRelativePath", () => {
  it("answers every path as the full check does (the shortcut for paths already normal)", () => {
    const random = mulberry32(18);
    // Short paths over the characters that matter: separators, dots, NUL, a drive letter's colon.
    const alphabet = ["a", "b", ".", "..", "/", "//", "\\", "\0", "C", ":", "é", " "];
    const paths = ["", ".", "..", "a", "a/b", "./a", "a/./b", "a/../b", "a/", "/a", "C:/a", "C:\\a", "c:a", "a//b"];
    for (let i = 0; i < 20_000; i++) {
      let p = "";
      const length = Math.floor(random() * 8);
      for (let j = 0; j < length; j++) p += alphabet[Math.floor(random() * alphabet.length)];
      paths.push(p);
    }
    for (const p of paths)
      expect(outcome(safeRelativePath, p), JSON.stringify(p)).toBe(outcome(normalisedRelativePath, p));
  });
});
