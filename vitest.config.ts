import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    // CLI tests spawn real `tandem` processes; on a loaded 2-core machine one can take tens of seconds.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Two cores: forks keep native modules (better-sqlite3, onnxruntime) isolated per test file.
    pool: "forks",
    maxWorkers: 2,
  },
});
