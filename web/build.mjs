// `npm run build:web`: type-checks the UI (Vite only strips types), then builds it into web/dist with
// Vite's JavaScript API (no global vite CLI needed).
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const tsconfig = fileURLToPath(new URL("./tsconfig.json", import.meta.url));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
try {
  execFileSync(process.execPath, [tsc, "--noEmit", "-p", tsconfig], { stdio: "inherit" });
} catch {
  console.error("web: type errors (above); not building");
  process.exit(1);
}
const configFile = fileURLToPath(new URL("./vite.config.ts", import.meta.url));
await build({ configFile, logLevel: process.env.CI ? "warn" : "info" });
