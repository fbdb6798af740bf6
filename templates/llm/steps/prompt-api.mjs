#!/usr/bin/env node
// The two prompt calls this project's pipeline makes, through the API every step can reach
// (TANDEM_URL and TANDEM_TOKEN: a token scoped to the run, so the version's author is the person
// who started the run):
//   node steps/prompt-api.mjs create support prompts/support.json   a version (same content, same version)
//   node steps/prompt-api.mjs alias support latest production       an alias, under the project's policies
import { readFileSync } from "node:fs";

const [command, name, a, b] = process.argv.slice(2);
const { TANDEM_URL, TANDEM_TOKEN, TANDEM_PROJECT } = process.env;
if (!TANDEM_URL || !TANDEM_TOKEN || !TANDEM_PROJECT) throw new Error("run this inside a Tandem step");
const base = `${TANDEM_URL}/api/v1/projects/${encodeURIComponent(TANDEM_PROJECT)}/prompts/${encodeURIComponent(name)}`;

async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${TANDEM_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (res.status >= 400) {
    console.error(`${method} ${name}: ${res.status} ${answer.error?.message ?? JSON.stringify(answer)}`);
    process.exit(1);
  }
  return answer;
}

if (command === "create") {
  const r = await call("POST", `${base}/versions`, JSON.parse(readFileSync(a, "utf8")));
  console.log(`${name}@${r.version.version} ${r.created ? "created" : "unchanged (same content)"}`);
} else if (command === "alias") {
  const r = await call("PUT", `${base}/aliases/${encodeURIComponent(b)}`, { version: a });
  console.log(`${name}@${b} → version ${r.alias.version}`);
} else {
  console.error("usage: prompt-api.mjs create NAME FILE | alias NAME VERSION ALIAS");
  process.exit(2);
}
