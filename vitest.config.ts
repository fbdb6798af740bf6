import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: forks keep native modules (better-sqlite3, onnxruntime) isolated per test file.
    pool: "forks",
    maxWorkers: 2,
  },
});
