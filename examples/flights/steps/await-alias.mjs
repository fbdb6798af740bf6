#!/usr/bin/env node
// Waits until a model alias points at a version — the pipeline's "manual approval" gate: the
// register step asked for `champion` under a policy that needs a human approver; this step holds
// the deploy until one approves (tandem models approve …), and fails if the request is refused.
//   node steps/await-alias.mjs <model> <alias> <version> [--every 0.25]   (seconds between checks)
// Uses the API URL and token every step gets (TANDEM_URL, TANDEM_TOKEN, TANDEM_PROJECT).
const [model, alias, version, flag, every = "0.25"] = process.argv.slice(2);
// Two light reads a check; a human's approval takes minutes, the quickstart's a few milliseconds.
const everyMs = flag === "--every" ? Number(every) * 1000 : 250;
if (!(everyMs > 0)) throw new Error(`--every: expected seconds > 0, got ${every}`);
if (!model || !alias || !version) throw new Error("usage: await-alias.mjs <model> <alias> <version>");
const { TANDEM_URL: url, TANDEM_TOKEN: token, TANDEM_PROJECT: project } = process.env;
if (!url) throw new Error("TANDEM_URL is not set: run this step under `tandem server` (or tandem quickstart)");
const base = `${url}/api/v1/projects/${encodeURIComponent(project)}/models/${encodeURIComponent(model)}`;
const headers = token ? { authorization: `Bearer ${token}` } : {};
let said = false;
for (;;) {
  const res = await fetch(`${base}/versions/${version}`, { headers });
  if (!res.ok) throw new Error(`GET ${base}/versions/${version}: HTTP ${res.status} ${await res.text()}`);
  const v = await res.json();
  if ((v.aliases ?? []).includes(alias)) {
    console.log(`${model}@${alias} → ${version}: approved`);
    break;
  }
  const d = await (await fetch(`${base}/versions/${version}/decisions`, { headers })).json();
  // The approval may land between reading the version and reading its requests: an applied request
  // means the alias moved.
  if ((d.requests ?? []).some((r) => r.status === "applied" && r.target?.name === alias)) {
    console.log(`${model}@${alias} → ${version}: approved`);
    break;
  }
  if (!(d.requests ?? []).some((r) => r.status === "pending"))
    throw new Error(
      `${model}@${version} → ${alias}: no pending request (rejected or refused): ${JSON.stringify(d.requests)}`,
    );
  if (!said) {
    console.log(`waiting for an approver: tandem models approve ${model}@${version}`);
    said = true;
  }
  await new Promise((r) => setTimeout(r, everyMs));
}
