import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // *.slow.test.ts load the machine on purpose (CPU hogs): they run alone afterwards
    // (vitest.slow.config.ts), so they can't slow the timing-sensitive tests running beside them.
    exclude: [...configDefaults.exclude, "**/*.slow.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    // CLI tests spawn real `tandem` processes; on a loaded 2-core machine one can take tens of seconds.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Two cores: forks keep native modules (better-sqlite3, onnxruntime) isolated per test file.
    pool: "forks",
    maxWorkers: 2,
  },
});
