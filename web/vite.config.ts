import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

/** The UI is served by `tandem server` from web/dist; `vite dev` proxies the API to a local server. */
export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Charts and graph layout are only needed on some pages; they load as separate chunks.
    chunkSizeWarningLimit: 400,
    sourcemap: false,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:7300", "/v1": "http://127.0.0.1:7300", "/v2": "http://127.0.0.1:7300" },
  },
});
