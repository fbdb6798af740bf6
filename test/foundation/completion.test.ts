/**
 * `tandem completion bash|zsh|fish`, run by the real shells. bash and fish complete a command line
 * themselves (bash through the function `complete -F` registers, fish through `complete -C`). zsh's
 * completion system needs an interactive line editor, so the script's own function runs with
 * `_describe` replaced by a stand-in that prints what it was given; `zsh -n` checks the syntax.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/index.js";
import { commandTable, completionScript } from "../../src/cli/completion.js";

const BIN = join(import.meta.dirname, "../../bin/tandem.js");
const dir = mkdtempSync(join(tmpdir(), "tandem-completion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const has = (shell: string) => spawnSync(shell, ["-c", "true"]).status === 0;

function script(shell: string): string {
  const file = join(dir, `tandem.${shell}`);
  writeFileSync(file, execFileSync(process.execPath, [BIN, "completion", shell], { encoding: "utf8" }));
  return file;
}

function bashComplete(file: string, words: string[]): string[] {
  const out = execFileSync(
    "bash",
    [
      "-c",
      `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _tandem; printf '%s\\n' "\${COMPREPLY[@]}"`,
      "_",
      file,
      ...words,
    ],
    { encoding: "utf8" },
  );
  return out.split("\n").filter(Boolean);
}

describe("tandem completion", () => {
  it("is generated from the command tree: a command added to the program completes", () => {
    const program = buildProgram();
    program.command("zzfresh").description("A command added here. More text.").option("--shiny", "be shiny");
    const table = commandTable(program);
    expect(table.find((e) => e.path === "")?.subcommands).toContainEqual({
      name: "zzfresh",
      description: "A command added here",
    });
    for (const shell of ["bash", "zsh", "fish"]) {
      expect(completionScript(program, shell)).toContain("zzfresh");
      expect(completionScript(program, shell)).toContain("shiny");
    }
    // Every registered command path is in the table, down to the leaves.
    expect(table.map((e) => e.path)).toEqual(expect.arrayContaining(["models register", "doctor", "completion"]));
  });

  it("refuses an unknown shell with a usage error, 'error:' in red only where colour is on", () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [BIN, "completion", "tcsh"], {
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "", ...env },
      });
    const plain = run({});
    expect(plain.stderr).toBe("error: completion: expected one of bash, zsh, fish, got tcsh\n");
    expect(plain.status).toBe(2);
    expect(run({ FORCE_COLOR: "1" }).stderr).toBe(
      "\u001b[31merror:\u001b[39m completion: expected one of bash, zsh, fish, got tcsh\n",
    );
    expect(run({ FORCE_COLOR: "1", NO_COLOR: "1" }).stderr).toMatch(/^error:/);
  });

  it.skipIf(!has("bash"))("bash completes commands, subcommands and options, skipping option values", () => {
    const file = script("bash");
    expect(bashComplete(file, ["tandem", "doc"])).toEqual(["doctor"]);
    expect(bashComplete(file, ["tandem", "models", "re"])).toEqual(["register", "reject"]);
    expect(bashComplete(file, ["tandem", "--project", "p", "models", "register", "--fi"])).toEqual(["--file"]);
    expect(bashComplete(file, ["tandem", "doctor", "--"])).toEqual(["--json", "--help"]);
  });

  it.skipIf(!has("fish"))("fish completes with descriptions", () => {
    const file = script("fish");
    const complete = (line: string) =>
      execFileSync("fish", ["-c", `source $argv[1]; complete -C "${line}"`, file], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
    expect(complete("tandem doc")).toEqual([
      "doctor\tCheck this installation: store and migrations, artifacts, executors, web UI, Python, disk space",
    ]);
    expect(complete("tandem models re")).toEqual([
      expect.stringMatching(/^register\tRegister a version/),
      expect.stringMatching(/^reject\tReject NAME@V/),
    ]);
    expect(complete("tandem completion --")).toEqual(["--help\tshow help"]);
  });

  it.skipIf(!has("zsh"))("zsh's script parses and offers each path's subcommands and options", () => {
    const file = script("zsh");
    expect(spawnSync("zsh", ["-n", file]).status).toBe(0);
    const complete = (prefix: string, ...words: string[]) =>
      execFileSync(
        "zsh",
        [
          "-c",
          // The stand-in for zsh's _describe prints the array it is handed (its last argument).
          'source $1; shift; _describe() { print -rl -- "${(@P)${@[-1]}}" }; PREFIX=$1; shift; words=("$@"); CURRENT=$#words; _tandem',
          "_",
          file,
          prefix,
          ...words,
        ],
        { encoding: "utf8" },
      )
        .split("\n")
        .filter(Boolean);
    expect(complete("", "tandem", "models", "")).toContainEqual(
      expect.stringMatching(/^register:Register a version from an ONNX file/),
    );
    expect(complete("--", "tandem", "--project", "p", "doctor", "--")).toEqual([
      "--json:print the checks as JSON\\: [{check, ok, detail}]",
      "--help:show help",
    ]);
  });
});
