import { describe, expect, it } from "vitest";
import { specDocument } from "./document.js";

describe("specDocument", () => {
  it("parses a text once and hands the same document to every caller", () => {
    const text = "project: p1\npipelines: {}\n";
    const first = specDocument(text);
    expect(specDocument(text)).toBe(first);
    expect(first.doc.get("project")).toBe("p1");
    expect(specDocument(`${text}# changed\n`)).not.toBe(first);
  });

  it("keeps YAML errors (duplicate keys) in the document", () => {
    const { doc } = specDocument("project: a\nproject: b\n");
    expect(doc.errors.map((e) => e.code)).toContain("DUPLICATE_KEY");
  });
});
