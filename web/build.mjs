// `npm run build:web`: builds the UI into web/dist with Vite's JavaScript API (no global vite CLI needed).
import { fileURLToPath } from "node:url";
import { build } from "vite";

const configFile = fileURLToPath(new URL("./vite.config.ts", import.meta.url));
await build({ configFile, logLevel: process.env.CI ? "warn" : "info" });
