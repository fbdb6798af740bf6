#!/usr/bin/env node
// Records this release as a deployment of the service — the source of the DORA metrics
// (`tandem deployments ls`, `tandem dora`) — through the API every step can reach: TANDEM_URL and
// TANDEM_TOKEN (a token scoped to this run). Replace the `echo` in tandem.yaml's deploy step with
// your real rollout, and keep this line after it.
//   node steps/record-deployment.mjs --service greeter --environment staging
import { execFileSync } from "node:child_process";

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];
if (!args.service) throw new Error("missing --service");
const { TANDEM_URL, TANDEM_TOKEN, TANDEM_PROJECT, TANDEM_WORKSPACE } = process.env;
if (!TANDEM_URL || !TANDEM_TOKEN || !TANDEM_PROJECT) throw new Error("run this inside a Tandem step");

// The commit that ships, for change lead time: the project folder's HEAD when it is a git checkout.
let commit = null;
try {
  commit = execFileSync("git", ["-C", TANDEM_WORKSPACE || ".", "rev-parse", "HEAD"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }).trim();
} catch {
  // Not a git checkout (yet): recorded without a commit.
}
const res = await fetch(`${TANDEM_URL}/api/v1/projects/${encodeURIComponent(TANDEM_PROJECT)}/deployments`, {
  method: "POST",
  headers: { authorization: `Bearer ${TANDEM_TOKEN}`, "content-type": "application/json" },
  body: JSON.stringify({ service: args.service, environment: args.environment ?? null, commit }),
});
const body = await res.json();
if (res.status !== 201) throw new Error(`recording the deployment failed: ${res.status} ${JSON.stringify(body)}`);
console.log(`recorded deployment ${body.id} of ${args.service}${commit ? ` at ${commit}` : ""} (${body.outcome})`);
