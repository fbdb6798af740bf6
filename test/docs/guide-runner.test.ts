/** The guide runner itself: it must catch a guide that lies, not only pass the ones that don't. */
import { execSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseGuide } from "./guide-blocks.js";
import { matches, normalise } from "./guide-output.js";
import { runGuide } from "./guide-runner.js";

const fence = "```";
const guide = (body: string) => parseGuide("docs/guides/t.md", body);

describe("the guide runner", () => {
  it("carries variables, functions and the directory from block to block, and checks output", async () => {
    const g = guide(
      [
        `${fence}sh run`,
        'export GREETING=hello; count=2; shout() { echo "$1!"; }; mkdir -p sub; cd sub',
        fence,
        `${fence}yaml file=made.yaml`,
        "a: 1",
        fence,
        `${fence}sh run`,
        'shout "$GREETING $count"; pwd; cat made.yaml; test -d "$TANDEM_HOME" || echo fresh home',
        fence,
        `${fence}text output`,
        "hello 2!",
        "~/guide/sub",
        "a: 1",
        "...",
        fence,
      ].join("\n"),
    );
    expect(g.errors).toEqual([]);
    const outcomes = await runGuide([g], {});
    expect(outcomes.map((o) => o.status)).toEqual(["ran", "ran", "ran"]);
  });

  it("fails a block whose output or exit code is not the guide's, and stops there", async () => {
    const wrongOutput = guide(
      [`${fence}sh run`, "echo 41", fence, `${fence}text output`, "42", fence, `${fence}sh run`, "true", fence].join(
        "\n",
      ),
    );
    const [first, ...rest] = await runGuide([wrongOutput], {});
    expect(first).toMatchObject({ status: "failed", line: 1 });
    expect(first!.why).toContain("--- got:\n41");
    expect(rest).toEqual([]);

    const wrongExit = guide([`${fence}sh run exit=1`, "true", fence].join("\n"));
    expect((await runGuide([wrongExit], {}))[0]).toMatchObject({
      status: "failed",
      why: expect.stringContaining("exited 0"),
    });
    const failsEarly = guide(
      [`${fence}sh run exit=3`, "(exit 3)", "echo not reached", fence, `${fence}text output`, fence].join("\n"),
    );
    expect((await runGuide([failsEarly], {}))[0]).toMatchObject({ status: "ran" });
  });

  it("stops what a guide started in the background", async () => {
    const g = guide([`${fence}sh run`, "sleep 317 &", fence].join("\n"));
    const outcomes = await runGuide([g], {});
    expect(outcomes[0]?.status).toBe("ran");
    expect(execSync("pgrep -f '^sleep 317$' || true", { encoding: "utf8" }).trim()).toBe("");
  });

  it("lists skipped blocks and what they need, and refuses unmarked shell blocks", async () => {
    const g = guide(
      [
        "<!-- skip: needs a cluster -->",
        `${fence}sh`,
        "kubectl apply -f deploy/",
        fence,
        `${fence}sh run needs=gpu`,
        "nvidia-smi",
        fence,
      ].join("\n"),
    );
    const outcomes = await runGuide([g], { gpu: () => ({ reason: "no GPU here" }) });
    expect(outcomes.map((o) => [o.status, o.why])).toEqual([
      ["skipped", "needs a cluster"],
      ["skipped", "needs gpu: no GPU here"],
    ]);
    expect(guide(`${fence}sh\nls\n${fence}\n`).errors).toEqual([
      "docs/guides/t.md:1: a sh block must be marked `run`, or have `<!-- skip: why -->` on the line before it",
    ]);
    expect(guide(`${fence}yaml file=../escape.yaml\na: 1\n${fence}\n`).errors[0]).toContain("relative path");
  });

  it("normalises ids, times, ports, durations and blanks alike on both sides", () => {
    const paths = { dir: "/tmp/tandem-guide-x", tmp: "/tmp/tandem-guide-x/.tmp" };
    const shown = normalise(
      "run 0f3a9c2b1d4e5f60718293a4b5c6d7e8  at 2026-01-02T03:04:05Z  took 35ms  http://127.0.0.1:4312",
      paths,
    );
    const printed = normalise(
      "run 9a8b7c6d5e4f30211203f4e5d6c7b8a9 at 2026-12-06 16:59:49Z took 1.2s http://127.0.0.1:39001",
      paths,
    );
    expect(printed).toBe(shown);
    expect(normalise("3.69471e-50 0.396667 1024", paths)).toBe("3.69471e-50 0.396667 1024");
    expect(matches("a\n...\nd", "a\nb\nc\nd")).toBe(true);
    expect(matches("a\n...\nd", "a\nb\nc")).toBe(false);
  });
});

describe("the guides themselves", () => {
  it("wait for a background process's log with grep -s: the file may not exist yet when the loop first looks", () => {
    const dir = new URL("../../docs/guides/", import.meta.url).pathname;
    const unguarded = readdirSync(dir)
      .filter((f) => f.endsWith(".md"))
      .flatMap((f) =>
        readFileSync(dir + f, "utf8")
          .split("\n")
          .map((line, i) => ({ where: `docs/guides/${f}:${i + 1}`, line }))
          .filter(({ line }) => /\buntil grep -q(?!s)/.test(line)),
      );
    // serving.md failed a CI run with "grep: server.log: No such file or directory" in its output.
    expect(unguarded.map((u) => `${u.where}: ${u.line.trim()}`)).toEqual([]);
  });
});

describe("output normalisation", () => {
  it("hides a Slurm job name's run id even when its 8 hex characters are all digits", () => {
    const paths = { dir: "/nowhere", tmp: "/nowhere-tmp" };
    for (const run of ["61691419", "3f2a9b01"])
      expect(normalise(`tandem.default.hello.greet.${run}|COMPLETED|nobody`, paths)).toBe(
        "tandem.default.hello.greet.<id>|COMPLETED|nobody",
      );
  });
});
