#!/usr/bin/env node
// Starts the built service from its bundle on a free port and checks /health answers ok — the
// last gate before the deployment is recorded.
//   node steps/smoke.mjs <bundle dir>
import { spawn } from "node:child_process";
import { join } from "node:path";

const bundle = process.argv[2];
const child = spawn(process.execPath, [join(bundle, "server.js"), "0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
  child.stdout.on("data", (d) => {
    const m = /listening on (\S+)/.exec(String(d));
    if (m) resolve(m[1]);
  });
  child.once("exit", (code) => reject(new Error(`service exited with code ${code} before listening`)));
});
try {
  const res = await fetch(`${url}/health`);
  const body = await res.json();
  if (res.status !== 200 || body.status !== "ok")
    throw new Error(`/health answered ${res.status} ${JSON.stringify(body)}`);
  console.log(`smoke test ok: ${url}/health → ${JSON.stringify(body)}`);
} finally {
  child.kill();
}
