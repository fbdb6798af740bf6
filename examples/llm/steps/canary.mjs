#!/usr/bin/env node
/**
 * The canary step: the endpoint `bot` serves `support@production` and tries `support@candidate` on a
 * share of the traffic (tandem.yaml). On the first release there is no production yet, so the
 * candidate (which passed the policy) becomes production. Then it sends questions as callers would,
 * with a routing key each, counts the answers per prompt version, and promotes the canary when it
 * answered without errors — under the same policy.
 *
 * It talks to the Tandem API the step was given (TANDEM_URL, TANDEM_TOKEN, TANDEM_PROJECT).
 */
import { readFileSync } from "node:fs";

const { TANDEM_URL: url, TANDEM_TOKEN: token, TANDEM_PROJECT: project } = process.env;
const headers = { authorization: `Bearer ${token}`, "content-type": "application/json", "x-tandem-project": project };
const api = async (method, path, body) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${json.error?.message ?? ""}`);
  return json;
};
const P = `/api/v1/projects/${encodeURIComponent(project)}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const prompt = await api("GET", `${P}/prompts/support`);
const alias = (name) => prompt.aliases.find((a) => a.alias === name)?.version ?? null;
const candidate = alias("candidate");
if (alias("production") === null) {
  await api("PUT", `${P}/prompts/support/aliases/production`, { version: candidate });
  console.log(`first release: support@${candidate} becomes production`);
}

// The endpoint follows the aliases on its next reconcile (the server's controller loop): wait until
// it serves production, and the candidate as its canary when the two differ.
const wanted = alias("production") ?? candidate;
let endpoint;
for (let i = 0; i < 150; i++) {
  endpoint = await api("GET", `${P}/endpoints/bot`).catch(() => null);
  const canaryReady = candidate === wanted || endpoint?.canary_version === candidate;
  if (endpoint?.primary_version && canaryReady) break;
  await sleep(200);
}
if (!endpoint?.primary_version) throw new Error(`endpoint bot did not start serving: ${JSON.stringify(endpoint)}`);
console.log(
  `bot serves support@${endpoint.primary_version}${endpoint.canary_version ? `, canary support@${endpoint.canary_version}` : ""}`,
);

const questions = readFileSync("cases/support.jsonl", "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l).variables.input);
const served = {};
let errors = 0;
for (let i = 0; i < 60; i++) {
  const res = await fetch(`${url}/v1/endpoints/bot/chat/completions`, {
    method: "POST",
    headers: { ...headers, "x-tandem-routing-key": `caller-${i}` },
    body: JSON.stringify({
      messages: [{ role: "user", content: questions[i % questions.length] }],
      metadata: { variables: { product: "Parcelly" } },
    }),
  });
  await res.json();
  if (!res.ok) errors++;
  const version = res.headers.get("x-tandem-prompt-version") ?? "error";
  served[version] = (served[version] ?? 0) + 1;
}
console.log(`answers per version: ${JSON.stringify(served)}; errors ${errors}`);

if (endpoint.canary_version) {
  if (errors > 0 || !served[`support@${endpoint.canary_version}`])
    throw new Error(`the canary support@${endpoint.canary_version} did not hold: not promoting`);
  // Promoting moves `production` to the canary's version (under the policy). The endpoint follows
  // `production` with a canary configured, so the moved alias starts a rollout of that version as the
  // canary, which has just been tried: promote that rollout too.
  const target = endpoint.canary_version;
  let now = endpoint;
  for (let i = 0; i < 150 && now.primary_version !== target; i++) {
    if (now.canary_version === target) await api("POST", `${P}/endpoints/bot/promote`, {});
    else await sleep(200);
    now = await api("GET", `${P}/endpoints/bot`);
  }
  console.log(`promoted: bot serves support@${now.primary_version}`);
} else {
  console.log("no canary: the candidate is what production serves already");
}
