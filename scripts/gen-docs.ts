/** `npm run docs`: regenerates docs/reference from the code. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateReferences } from "./reference-docs.js";

const root = join(import.meta.dirname, "..", "docs", "reference");
for (const [path, content] of Object.entries(await generateReferences())) {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  console.log(`wrote docs/reference/${path}`);
}
