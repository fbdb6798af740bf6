import type { FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { extractToken } from "./auth.js";

const withAuthorization = (authorization: string | undefined) =>
  ({ headers: { authorization } }) as unknown as FastifyRequest;

/** What extractToken answered before its "Bearer T" shortcut: the split alone. */
function bySplit(header: string): string | undefined | "throws" {
  const [scheme, value] = header.split(/\s+/, 2);
  if (scheme?.toLowerCase() === "bearer" && value) return value;
  if (scheme?.toLowerCase() === "basic" && value) {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return "throws";
}

describe("extractToken", () => {
  it("reads each form as the split did", () => {
    const headers = [
      "Bearer tdm_abc123",
      "Bearer  tdm_abc123",
      "Bearer tdm_abc 123",
      "Bearer\ttdm_abc",
      "Bearer tdm\u00a0abc",
      "bearer tdm_abc",
      "BEARER tdm_abc",
      "Bearer ",
      "Bearer",
      `Basic ${Buffer.from("user:tdm_pw").toString("base64")}`,
      "Token tdm_abc",
    ];
    for (const header of headers) {
      const expected = bySplit(header);
      if (expected === "throws") expect(() => extractToken(withAuthorization(header))).toThrow(/unsupported/);
      else expect(extractToken(withAuthorization(header))).toBe(expected);
    }
    expect(extractToken(withAuthorization(undefined))).toBeUndefined();
  });
});
