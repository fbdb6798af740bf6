import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

/** The tests that load the machine on purpose, run one file at a time after the main suite (`npm test`). */
export default defineConfig({
  test: { ...base.test, include: ["test/**/*.slow.test.ts"], exclude: [], maxWorkers: 1 },
});
