/**
 * A command registers only its group's modules (COMMAND_MODULES in index.ts): each group must come out
 * exactly as in the whole program, or a command would parse, help or complete differently depending
 * on how it was started.
 */
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "./index.js";

/** A command's whole tree: names, aliases, help text (arguments, options, descriptions), subcommands. */
function tree(command: Command): unknown {
  return {
    name: command.name(),
    aliases: command.aliases(),
    help: command.helpInformation({ error: false }),
    subcommands: command.commands.map(tree),
  };
}

describe("the program built for one command group", () => {
  it("holds every group exactly as the whole program does", () => {
    const whole = buildProgram();
    const groups = whole.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    expect(groups).toContain("runs");
    for (const group of groups) {
      const some = buildProgram(group);
      const mine = some.commands.find((c) => c.name() === group || c.aliases().includes(group));
      const theirs = whole.commands.find((c) => c.name() === group || c.aliases().includes(group))!;
      expect(mine && tree(mine), group).toEqual(tree(theirs));
    }
  });

  it("leaves out the other groups' modules", () => {
    const names = buildProgram("runs").commands.map((c) => c.name());
    // `runs` comes from pipelines and tracking: their other commands come along, no one else's.
    expect(names.sort()).toEqual(["apply", "experiments", "run", "runs", "schema", "secrets", "validate"]);
  });

  it("is the whole program for what names no group: help, completion, a typo", () => {
    const whole = buildProgram().commands.map((c) => c.name());
    for (const first of ["help", "completion", "rnus"]) {
      expect(buildProgram(first).commands.map((c) => c.name())).toEqual(whole);
    }
  });
});
