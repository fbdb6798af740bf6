import { describe, expect, it } from "vitest";
import type { Logger } from "../core/logger.js";
import { runLoop } from "./background.js";

function recorder() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (fields: object | string, msg?: string): void =>
        void lines.push(
          typeof fields === "string"
            ? { level, fields: bindings, msg: fields }
            : { level, fields: { ...bindings, ...fields }, msg: msg ?? "" },
        );
    return {
      error: at("error"),
      warn: at("warn"),
      info: at("info"),
      debug: at("debug"),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return { lines, log: make({ area: "monitor-scheduler" }) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("background loops", () => {
  it("log what a tick did with its ids, a failure once with its area (not every tick), and the recovery", async () => {
    const { lines, log } = recorder();
    const abort = new AbortController();
    let tick = 0;
    runLoop(
      {
        name: "monitor-scheduler",
        intervalMs: 10,
        immediately: true,
        tick: async () => {
          tick++;
          if (tick >= 2 && tick <= 6) throw new Error("database is down");
          return tick === 7 ? ["m1"] : [];
        },
        report: (ran, l) => ran.forEach((monitor) => l.info({ monitor }, "monitor ran")),
      },
      abort.signal,
      log,
    );
    while (tick < 8) await sleep(5);
    abort.abort();
    expect(lines).toEqual([
      {
        level: "error",
        fields: { area: "monitor-scheduler", loop: "monitor-scheduler", err: expect.any(Error) },
        msg: "background tick failed",
      },
      { level: "info", fields: { area: "monitor-scheduler", loop: "monitor-scheduler" }, msg: "recovered" },
      { level: "info", fields: { area: "monitor-scheduler", monitor: "m1" }, msg: "monitor ran" },
    ]);
  });
});
