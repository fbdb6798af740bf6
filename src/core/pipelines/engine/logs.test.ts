import { describe, expect, it } from "vitest";
import type { LogChunk } from "../model.js";
import { gatheredLogWrites, linesSinceSubmitted, submittedLine } from "./logs.js";

let seq = 0;
const chunk = (stream: LogChunk["stream"], text: string): LogChunk => ({
  seq: ++seq,
  stepId: "s",
  stream,
  text,
  at: 0,
});

describe("linesSinceSubmitted", () => {
  const log = [
    chunk("system", submittedLine("kubernetes", "ns/job-1")),
    chunk("stdout", "attempt one"),
    chunk("system", "attempt 2 of 2"),
    chunk("system", submittedLine("kubernetes", "ns/job-2")),
    chunk("stdout", "a"),
    chunk("stderr", "b"),
    chunk("system", "waiting for Kubernetes: Pending"),
    chunk("stdout", "c"),
  ];

  it("counts the output lines after the job's own submission line, not Tandem's own lines", () => {
    expect(linesSinceSubmitted(log, "ns/job-2")).toBe(3);
  });

  it("counts the same over pages as over the whole log", () => {
    const first = linesSinceSubmitted(log.slice(0, 5), "ns/job-2");
    expect(linesSinceSubmitted(log.slice(5), "ns/job-2", first)).toBe(3);
  });

  it("does not take another job's id that ends the same for its own", () => {
    expect(linesSinceSubmitted([chunk("system", submittedLine("slurm", "12")), chunk("stdout", "x")], "2")).toBe(1);
    expect(linesSinceSubmitted([chunk("stdout", "x"), chunk("system", submittedLine("slurm", "12"))], "12")).toBe(0);
  });
});

describe("gatheredLogWrites", () => {
  const line = (stepId: string, text: string) => ({ stepId, stream: "stdout" as const, text, at: 0 });

  it("writes what is written in the same turn as one write per run, in order, and the next turn apart", async () => {
    const writes: Array<[string, string[]]> = [];
    const write = gatheredLogWrites(async (runId, chunks) => void writes.push([runId, chunks.map((c) => c.text)]));
    const first = [
      write("r1", [line("a", "1"), line("a", "2")]),
      write("r2", [line("c", "x")]),
      write("r1", [line("b", "3")]),
    ];
    expect(writes).toEqual([]);
    await Promise.all(first);
    expect(writes).toEqual([
      ["r1", ["1", "2", "3"]],
      ["r2", ["x"]],
    ]);
    await write("r1", [line("a", "4")]);
    expect(writes.at(-1)).toEqual(["r1", ["4"]]);
  });

  it("fails every write gathered into a failed one", async () => {
    const write = gatheredLogWrites(() => Promise.reject(new Error("disk full")));
    const both = [write("r", [line("a", "1")]), write("r", [line("b", "2")])];
    for (const written of both) await expect(written).rejects.toThrow("disk full");
  });
});
