import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { directCommand, simpleCommandWords } from "./direct-command.js";
import { stepEnvironment } from "./step-env.js";
import { probeSandbox, sandboxArgv } from "./sandbox.js";

const BASH = "/bin/bash";
const BASH_ARGS = ["--noprofile", "--norc", "-eo", "pipefail", "-c"];

const root = realpathSync(mkdtempSync(join(tmpdir(), "tandem-direct-")));
const workdir = join(root, "work", "run1", "step-1");
const hiddenHome = join(root, "home");
mkdirSync(workdir, { recursive: true });
mkdirSync(join(hiddenHome, "bin"), { recursive: true });
writeFileSync(join(workdir, "with-shebang.sh"), "#!/bin/sh\nenv -0\n");
chmodSync(join(workdir, "with-shebang.sh"), 0o755);
writeFileSync(join(workdir, "no-shebang.sh"), "env -0\n");
chmodSync(join(workdir, "no-shebang.sh"), 0o755);
writeFileSync(join(hiddenHome, "bin", "secret-tool"), "#!/bin/sh\necho hidden\n");
chmodSync(join(hiddenHome, "bin", "secret-tool"), 0o755);
spawnSync("mkfifo", [join(workdir, "fifo")]);
chmodSync(join(workdir, "fifo"), 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function parseEnv(out: Buffer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of out.toString("utf8").split("\0")) {
    if (!entry) continue;
    const eq = entry.indexOf("=");
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** What `script` sees as its environment: via bash (as before), and run directly. */
function bothWays(script: string, env: Record<string, string>, sandboxed: boolean) {
  const hidden = sandboxed ? [hiddenHome, join(root, "work")] : [];
  const wrap = (command: string[]) => (sandboxed ? sandboxArgv({ command, workdir, hide: hidden }) : command);
  const viaBash = wrap([BASH, ...BASH_ARGS, script]);
  const bash = spawnSync(viaBash[0]!, viaBash.slice(1), { cwd: workdir, env });
  const direct = directCommand({ script, env, workdir, hidden });
  expect(direct, `${script} runs without bash`).not.toBeNull();
  const argv = wrap(direct!.argv);
  const run = spawnSync(argv[0]!, argv.slice(1), { cwd: workdir, env: direct!.env });
  expect(run.status).toBe(bash.status);
  return { bash: parseEnv(bash.stdout), direct: parseEnv(run.stdout) };
}

const base = (): Record<string, string> => stepEnvironment({ TANDEM_OUTPUT_MODEL: join(workdir, "out") });

const cases: Array<[string, Record<string, string>]> = [
  ["this process's environment", {}],
  ["no SHLVL, PWD or OLDPWD", { SHLVL: "", PWD: "", OLDPWD: "" }],
  ["SHLVL 007, PWD naming the step's directory", { SHLVL: "007", PWD: workdir }],
  ["SHLVL 998, PWD elsewhere, OLDPWD a directory", { SHLVL: "998", PWD: "/", OLDPWD: "/usr" }],
  ["OLDPWD not a directory, odd names", { OLDPWD: "/nonexistent", "A-B": "1", " X": "y", f: "() { echo hi; }" }],
  ["variables bash keeps as they are", { TERM: "xterm", SHELL: "/bin/zsh", HOSTNAME: "h", OSTYPE: "o" }],
];

describe("directCommand runs a simple command with the environment bash would give it", () => {
  const sandbox = probeSandbox();
  for (const sandboxed of [false, true]) {
    for (const [what, changes] of cases) {
      it.skipIf(sandboxed && !sandbox.isolated)(`${what}${sandboxed ? " (in the sandbox)" : ""}`, () => {
        const env = base();
        for (const [name, value] of Object.entries(changes)) {
          if (value === "") delete env[name];
          else env[name] = value;
        }
        for (const script of ["env -0", "  ./with-shebang.sh  \n"]) {
          const { bash, direct } = bothWays(script, env, sandboxed);
          expect(direct).toEqual(bash);
        }
      });
    }
  }

  it("exits with the command's status", () => {
    const env = base();
    for (const script of ["true", "false", "sh -c exit\t3"]) {
      const bash = spawnSync(BASH, [...BASH_ARGS, script], { cwd: workdir, env });
      const direct = directCommand({ script, env, workdir, hidden: [] })!;
      const run = spawnSync(direct.argv[0]!, direct.argv.slice(1), { cwd: workdir, env: direct.env });
      expect(run.status).toBe(bash.status);
    }
  });
});

describe("directCommand leaves to bash", () => {
  const env = base();
  it.each([
    ["quotes", "echo 'a b'"],
    ["variables", "python3 $X"],
    ["globs", "ls *.txt"],
    ["redirections", "env > out"],
    ["several commands", "true; true"],
    ["several lines", "true\ntrue"],
    ["a pipeline", "env | cat"],
    ["a tilde", "ls ~"],
    ["a comment", "true #"],
    ["an assignment", "A=1 env"],
    ["a builtin", "cd /"],
    ["a builtin with a program of the same name", "echo hi"],
    ["a keyword", "time sleep 0"],
    ["an empty script", "  \n"],
    ["a command that is not found", "no-such-command-here"],
    ["a script without #!", "./no-shebang.sh"],
    ["a directory", "./"],
    ["a FIFO", "./fifo"],
  ])("%s", (_what, script) => {
    expect(directCommand({ script, env, workdir, hidden: [] })).toBeNull();
  });

  it.each([
    ["IFS", { IFS: ":" }],
    ["BASH_ENV", { BASH_ENV: "/dev/null" }],
    ["SHELLOPTS", { SHELLOPTS: "xtrace" }],
    ["an exported function", { "BASH_FUNC_env%%": "() { echo no; }" }],
    ["SHLVL bash resets", { SHLVL: "999" }],
    ["SHLVL not a plain number", { SHLVL: "-3" }],
    ["a relative PATH entry", { PATH: `.:${process.env.PATH ?? "/usr/bin:/bin"}` }],
  ])("an environment with %s", (_what, changes) => {
    expect(directCommand({ script: "env -0", env: { ...env, ...changes }, workdir, hidden: [] })).toBeNull();
  });

  it("no PATH", () => {
    const noPath = { ...env };
    delete noPath.PATH;
    expect(directCommand({ script: "env -0", env: noPath, workdir, hidden: [] })).toBeNull();
  });

  it("a command the sandbox hides, or one found first in a hidden PATH entry", () => {
    const hidden = [hiddenHome];
    const path = `${join(hiddenHome, "bin")}:${env.PATH ?? "/usr/bin:/bin"}`;
    expect(directCommand({ script: "secret-tool", env: { ...env, PATH: path }, workdir, hidden })).toBeNull();
    expect(directCommand({ script: `${hiddenHome}/bin/secret-tool`, env, workdir, hidden })).toBeNull();
    // Without the sandbox the same command is visible, and runs directly.
    expect(directCommand({ script: "secret-tool", env: { ...env, PATH: path }, workdir, hidden: [] })).not.toBeNull();
  });

  it("a command under a hidden link, from the first call after the link exists", () => {
    // The hidden paths' real paths are looked up once (hiddenRoots); one missing is looked up again.
    const tools = join(root, "tools");
    mkdirSync(tools, { recursive: true });
    writeFileSync(join(tools, "linked-tool"), "#!/bin/sh\necho linked\n");
    chmodSync(join(tools, "linked-tool"), 0o755);
    const link = join(root, "hidden-link");
    const hidden = [link];
    const path = `${tools}:${env.PATH ?? "/usr/bin:/bin"}`;
    const direct = () => directCommand({ script: "linked-tool", env: { ...env, PATH: path }, workdir, hidden });
    expect(direct(), "the link is not there yet: nothing hides the tool").not.toBeNull();
    symlinkSync(tools, link);
    expect(direct(), "hidden through the link's real path").toBeNull();
    expect(direct(), "and again, from what was looked up").toBeNull();
  });

  it("an OLDPWD in a hidden directory", () => {
    const hidden = [hiddenHome];
    expect(
      directCommand({ script: "env -0", env: { ...env, OLDPWD: join(hiddenHome, "bin") }, workdir, hidden }),
    ).toBeNull();
  });
});

describe("directCommand reads a command's file again once it changes", () => {
  const env = base();
  const script = join(workdir, "changing.sh");
  const direct = () => directCommand({ script: "./changing.sh", env, workdir, hidden: [] });

  it("rewritten, made not executable, swapped for a FIFO", () => {
    writeFileSync(script, "env -0\n");
    chmodSync(script, 0o755);
    expect(direct(), "no #!: bash runs it").toBeNull();
    expect(direct()).toBeNull();
    writeFileSync(script, "#!/bin/sh\nenv -0\n");
    expect(direct(), "a #! now").not.toBeNull();
    expect(direct()).not.toBeNull();
    chmodSync(script, 0o644);
    expect(direct(), "not executable").toBeNull();
    chmodSync(script, 0o755);
    expect(direct()).not.toBeNull();
    rmSync(script);
    expect(direct(), "gone").toBeNull();
    spawnSync("mkfifo", [script]);
    chmodSync(script, 0o755);
    expect(direct(), "a FIFO in its place").toBeNull();
    rmSync(script);
  });

  it("the same file through links in other directories is the same answer", () => {
    const target = join(root, "shared.sh");
    writeFileSync(target, "#!/bin/sh\nenv -0\n");
    chmodSync(target, 0o755);
    for (const n of [1, 2]) {
      const dir = join(root, "work", "run1", `linked-${n}`);
      mkdirSync(dir, { recursive: true });
      symlinkSync(target, join(dir, "shared.sh"));
      expect(directCommand({ script: "./shared.sh", env, workdir: dir, hidden: [] })?.argv).toEqual(["./shared.sh"]);
    }
    writeFileSync(target, "env -0\n");
    expect(
      directCommand({ script: "./shared.sh", env, workdir: join(root, "work", "run1", "linked-1"), hidden: [] }),
    ).toBeNull();
  });
});

describe("simpleCommandWords", () => {
  it("splits plain words on blanks", () => {
    expect(simpleCommandWords(" python3\tsteps/train.py --lr=0.1 --out a:b,c@d%e+f \n")).toEqual([
      "python3",
      "steps/train.py",
      "--lr=0.1",
      "--out",
      "a:b,c@d%e+f",
    ]);
    expect(simpleCommandWords("true")).toEqual(["true"]);
  });
});
