/**
 * Runs a step whose whole `run:` is one simple command (`sleep 0.1`, `python3 train.py --lr 0.1`,
 * `make build`) without starting bash first, as make does with such commands.
 *
 * bash -c with one simple command already execs that command in place of itself (its "one-shot"
 * exec): exit status, signals, output and process tree are the command's either way. What bash adds
 * is its own start-up, 3-5 ms of CPU per step (perf stat task-clock, 5 alternating rounds of 30 at
 * load 10-12: bwrap + `bash -c true` 17.8 ms against bwrap + `true` 14.5 ms; `bash -c 'sleep
 * 0.01'` against `sleep 0.01` 5 ms) and one exec more on every step's critical path; and the four
 * environment variables it sets on the way, which are set here the same way (bashExecEnvironment):
 * PWD, SHLVL (bash adds one and takes it back before the exec), `_` (the command's path) and
 * OLDPWD (kept only if it names a directory). A test compares the result with what the machine's
 * bash gives the command it execs.
 *
 * Anything else goes through bash as before: a character bash would interpret (quotes, `$`, globs,
 * redirections, `;`, `~`, `#`, `\`, newlines between commands: `${{ … }}` values are quoted, so
 * every script that uses one), a first word that is a builtin or keyword of bash (except `true`
 * and `false`, whose programs do the same), an assignment, a command not found as an executable
 * file or script, a command only visible outside the sandbox, and an environment bash reads or
 * rewrites at start-up (BASH_ENV, SHELLOPTS, exported functions, IFS, … — SHELL_STATE below).
 */
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  type Stats,
} from "node:fs";
import { isAbsolute, join, resolve, sep } from "node:path";

/** Characters with no meaning to bash inside a word (no quoting, expansion, globbing, redirection). */
const PLAIN_WORD = /^[A-Za-z0-9_./:,+@%=-]+$/;

/** bash 5.2's builtins and keywords (`compgen -b`, `compgen -k`): these words need the shell. */
const SHELL_WORDS = new Set(
  (
    ". : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs " +
    "disown echo enable eval exec exit export fc fg getopts hash help history jobs kill let local logout " +
    "mapfile popd printf pushd pwd read readarray readonly return set shift shopt source suspend test " +
    "times trap type typeset ulimit umask unalias unset wait " +
    "if then else elif fi case esac for select while until do done in function time coproc"
  ).split(" "),
);

/**
 * Variables bash sets, reads or drops when it starts (`env -i bash -c 'compgen -v'`, and the ones
 * it reads: BASH_ENV runs a file, SHELLOPTS and POSIXLY_CORRECT change options, PS1/PS2 are
 * dropped). A step environment holding any of them runs through bash. PATH, TERM, SHELL, HOSTNAME,
 * HOSTTYPE, OSTYPE and MACHTYPE pass through bash unchanged; PWD, SHLVL, `_` and OLDPWD are
 * emulated.
 */
const SHELL_STATE = new Set(
  (
    "BASH BASHOPTS BASHPID BASH_ALIASES BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_CMDS BASH_COMMAND " +
    "BASH_EXECUTION_STRING BASH_LINENO BASH_LOADABLES_PATH BASH_SOURCE BASH_SUBSHELL BASH_VERSINFO " +
    "BASH_VERSION COMP_WORDBREAKS DIRSTACK EPOCHREALTIME EPOCHSECONDS EUID GROUPS HISTCMD IFS LINENO " +
    "OPTERR OPTIND PPID PS4 RANDOM SECONDS SHELLOPTS SRANDOM UID " +
    "BASH_ENV ENV POSIXLY_CORRECT PS1 PS2 BASH_XTRACEFD BASH_COMPAT"
  ).split(" "),
);

export interface DirectCommandOptions {
  /** The step's `run:` after substitution. */
  script: string;
  /** The step's environment (as bash would receive it). */
  env: Record<string, string>;
  /** The step's working directory (absolute). */
  workdir: string;
  /** Paths the step's sandbox hides (empty without a sandbox); the workdir is visible even below one. */
  hidden: string[];
}

export interface DirectCommand {
  /** argv: the command's first word as written (looked up on PATH by exec, as bash does), then its arguments. */
  argv: string[];
  /** The environment bash would have given it. */
  env: Record<string, string>;
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** The words of a script that is one simple command of plain words, else null. */
export function simpleCommandWords(script: string): string[] | null {
  const trimmed = script.trim();
  if (trimmed === "" || /[\n\r]/.test(trimmed)) return null;
  const words = trimmed.split(/[ \t]+/);
  if (!words.every((word) => PLAIN_WORD.test(word))) return null;
  const first = words[0]!;
  if (first.includes("=")) return null; // an assignment
  if (!first.includes("/") && SHELL_WORDS.has(first)) return null;
  return words;
}

/**
 * The status of `path` if it is an executable regular file (bash and execvp skip the rest on PATH),
 * else null. A missing file is answered without an exception: most PATH entries lack the command,
 * and an fs error's construction (a stack trace) was most of a `true` step's lookup, 0.2-0.3 ms of
 * the driving thread per step with PATH's 13 entries here (issue 18).
 */
function executableFile(path: string): Stats | null {
  try {
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info?.isFile()) return null;
    accessSync(path, constants.X_OK);
    return info;
  } catch {
    return null;
  }
}

/**
 * Whether exec can start the file by itself: a binary or a `#!` script. Without either, exec fails
 * with ENOEXEC where bash would run the file as a bash script. Opened without blocking and checked
 * again once open: a file swapped for a FIFO after the PATH search must not stop this process.
 */
function startsByItself(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return false;
  }
  try {
    if (!fstatSync(fd).isFile()) return false;
    const head = Buffer.alloc(4);
    const read = readSync(fd, head, 0, 4, 0);
    return (read >= 2 && head[0] === 0x23 && head[1] === 0x21) || (read === 4 && head.toString("latin1") === "\x7fELF");
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** What startsByItself answered, by the identity of the file it read (fileIdentity). */
const startsCache = new Map<string, boolean>();
/** Files remembered at most (a server runs many commands; the map is cleared when full). */
const STARTS_CACHE_LIMIT = 256;

/**
 * What changes when a file is replaced (a new inode), rewritten (size, mtime, ctime), or its mode
 * changed (ctime, mode): the file is read again then.
 */
function fileIdentity(info: Stats): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.mode}`;
}

/**
 * startsByItself, read once per file while the file stays the same (`info`: its status, following
 * links, as the lookup took it). Every step of a run that runs `python3 …` or `./train.sh` (a link
 * to the same file in each step's directory) execs the same file, and opening and reading its head
 * was a fifth of the lookup (issue 18). A file that changes is read again; one swapped for a FIFO
 * since has another identity, and is opened without blocking. (A rewrite to the same size within
 * one tick of the file system's clock, a few ms, keeps the identity: a script that loses its `#!`
 * that way fails to start, ENOEXEC, where bash would have run it.)
 */
function startsByItselfCached(path: string, info: Stats): boolean {
  const identity = fileIdentity(info);
  const known = startsCache.get(identity);
  if (known !== undefined) return known;
  const starts = startsByItself(path);
  if (startsCache.size >= STARTS_CACHE_LIMIT) startsCache.clear();
  startsCache.set(identity, starts);
  return starts;
}

/**
 * Where bash would find `word` ("_" takes this value) and the file's status, or null: a path as
 * written when it has a slash, else the first executable file on the environment's PATH. Relative
 * PATH entries (resolved against the working directory) and a missing PATH (bash then searches a
 * default of its own that it does not export) are left to bash.
 */
function commandPath(word: string, env: Record<string, string>, workdir: string): { path: string; info: Stats } | null {
  if (word.includes("/")) {
    const info = executableFile(resolve(workdir, word));
    return info ? { path: word, info } : null;
  }
  if (env.PATH === undefined) return null;
  for (const dir of env.PATH.split(":")) {
    if (!isAbsolute(dir)) return null;
    const candidate = join(dir, word);
    const info = executableFile(candidate);
    if (info) return { path: candidate, info };
  }
  return null;
}

/**
 * The environment bash 5 gives a command it execs, from the one it was started with, or null when
 * bash would change more than PWD, SHLVL, `_` and OLDPWD (SHELL_STATE).
 */
export function bashExecEnvironment(
  env: Record<string, string>,
  workdir: string,
  commandPathForUnderscore: string,
): Record<string, string> | null {
  for (const name of Object.keys(env)) if (SHELL_STATE.has(name) || name.startsWith("BASH_FUNC_")) return null;
  const result = { ...env };
  // bash adds one to SHLVL (0 if unset or not a number), then takes it back before the exec; a
  // level of 1000 or more is reset with a warning on stderr, which is left to bash.
  const level = env.SHLVL;
  if (level === undefined || level === "") result.SHLVL = "0";
  else if (/^[0-9]{1,3}$/.test(level) && Number(level) <= 998) result.SHLVL = String(Number(level));
  else return null;
  // PWD: kept if it names the working directory, else the physical path (getcwd). In the sandbox
  // bwrap --chdir sets it to the working directory before either bash or the command starts.
  if (!(env.PWD !== undefined && isAbsolute(env.PWD) && sameFile(env.PWD, workdir))) {
    const physical = realOrNull(workdir);
    if (physical === null) return null;
    result.PWD = physical;
  }
  // OLDPWD is passed on only if it names a directory.
  if (env.OLDPWD !== undefined && !isDirectory(env.OLDPWD)) delete result.OLDPWD;
  result._ = commandPathForUnderscore;
  return result;
}

function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The path with every link resolved, or null. realpath(3) (`.native`): the JS realpathSync lstats
 * each part of the path in turn, a third of this file's cost per step in a sandbox (issue 18); the
 * answer for a path that exists is the same.
 */
function realOrNull(path: string): string | null {
  try {
    return realpathSync.native(path);
  } catch {
    return null;
  }
}

/** Real paths of hidden paths (realpath(3) of each), by path, as found once (hiddenRoots). */
const realHidden = new Map<string, string>();
/** Paths remembered at most (a server hides the same few for every step). */
const REAL_HIDDEN_LIMIT = 256;

/**
 * Each hidden path as written and with its links resolved. The hidden paths are the server's own
 * (its home and files, the step directories' root): the same for every step, and they do not move
 * under a running server, so each one's real path is looked up once. Resolving them for every step
 * was most of a sandboxed `true` step's system calls in the driving thread: a readlink per
 * component of each of about ten paths, 49 per step (strace, 200 steps; issue 18). A path that does
 * not exist yet (tandem.db-wal before the first write) is looked up again the next time.
 */
function hiddenRoots(hidden: readonly string[]): Array<string | null> {
  return hidden.flatMap((path) => {
    let real = realHidden.get(path) ?? null;
    if (real === null) {
      real = realOrNull(path);
      if (real !== null) {
        if (realHidden.size >= REAL_HIDDEN_LIMIT) realHidden.clear();
        realHidden.set(path, real);
      }
    }
    return [resolve(path), real];
  });
}

/** The command and environment to run `script` with, without bash; null when bash is needed. */
export function directCommand(options: DirectCommandOptions): DirectCommand | null {
  const words = simpleCommandWords(options.script);
  if (!words) return null;
  const workdir = resolve(options.workdir);
  const command = commandPath(words[0]!, options.env, workdir);
  if (command === null) return null;
  const found = command.path;
  if (options.hidden.length > 0) {
    // Found outside the sandbox but hidden inside it: bash would not find it there (or would find
    // another one further down PATH), so bash decides.
    let real: string;
    try {
      real = realpathSync.native(resolve(workdir, found));
    } catch {
      return null;
    }
    const hiddenHere = hiddenRoots(options.hidden);
    const hiddenInside = (path: string) => !inside(path, workdir) && hiddenHere.some((dir) => dir && inside(path, dir));
    if (hiddenInside(real)) return null;
    // OLDPWD in a hidden directory is no directory inside the sandbox: bash would drop it.
    const oldpwd = options.env.OLDPWD;
    if (oldpwd !== undefined && (hiddenInside(resolve(oldpwd)) || hiddenInside(realOrNull(oldpwd) ?? ""))) return null;
  }
  // Read only once known to be visible to the step: the server's own files are never opened here.
  if (!startsByItselfCached(resolve(workdir, found), command.info)) return null;
  // A relative OLDPWD is checked by bash against its working directory: left to bash.
  if (options.env.OLDPWD !== undefined && !isAbsolute(options.env.OLDPWD)) return null;
  const env = bashExecEnvironment(options.env, workdir, found);
  if (!env) return null;
  return { argv: words, env };
}
