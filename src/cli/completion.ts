/**
 * `tandem completion bash|zsh|fish`: a shell completion script generated from the command tree
 * commander holds, so a new command or option completes without anyone editing a script.
 *
 * Each script carries the same table: for every command path ("", "models", "models register"),
 * its subcommands (with descriptions where the shell shows them) and its long options. At the
 * cursor the script walks the words typed so far, following only words that name a subcommand
 * (option values and arguments are skipped), and offers what that path has.
 */
import type { Command } from "commander";
import { UsageError } from "./context.js";

interface PathEntry {
  path: string;
  subcommands: Array<{ name: string; description: string }>;
  options: Array<{ flag: string; description: string }>;
}

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** A description as the shell shows it: its first sentence, on one line, at most 100 characters. */
function summary(text: string): string {
  const line = text.split("\n")[0]!.trim();
  const sentence = (/^(.*?)\.(\s|$)/.exec(line)?.[1] ?? line).trim();
  return sentence.length > 100 ? `${sentence.slice(0, 99)}…` : sentence;
}

/** Every command path of `program`, depth first, the root ("") first. */
export function commandTable(program: Command): PathEntry[] {
  const out: PathEntry[] = [];
  const walk = (command: Command, path: string) => {
    const visible = command.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
    const options = command.options
      .filter((o) => o.long && !o.hidden)
      .map((o) => ({ flag: o.long!, description: summary(o.description) }));
    out.push({
      path,
      subcommands: visible.map((c) => ({ name: c.name(), description: summary(c.description()) })),
      // commander adds --help to every command (and --version to the root) only when it prints help.
      options: [...options, { flag: "--help", description: "show help" }],
    });
    for (const child of visible) walk(child, path ? `${path} ${child.name()}` : child.name());
  };
  walk(program, "");
  return out;
}

const single = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(table: PathEntry[]): string {
  const cases = table
    .map(
      (e) =>
        `    ${single(e.path)}) echo ${single([...e.subcommands.map((s) => s.name), ...e.options.map((o) => o.flag)].join(" "))} ;;`,
    )
    .join("\n");
  return `# tandem completion for bash: source <(tandem completion bash), or save it under
# /etc/bash_completion.d/tandem. Generated from the command tree of this version.
_tandem_words() {
  case "$1" in
${cases}
  esac
}
_tandem() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    case " $(_tandem_words "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_tandem_words "$path")" -- "$cur"))
}
complete -F _tandem tandem
`;
}

function zsh(table: PathEntry[]): string {
  const esc = (s: string) => s.replace(/:/g, "\\:");
  // Assigned as (key value …) lists: zsh keeps quotes in a subscript (a['x']=…) as part of the key.
  const subs = table.map(
    (e) => `  ${single(e.path)} ${single(e.subcommands.map((s) => `${esc(s.name)}:${esc(s.description)}`).join("\n"))}`,
  );
  const opts = table.map(
    (e) => `  ${single(e.path)} ${single(e.options.map((o) => `${esc(o.flag)}:${esc(o.description)}`).join("\n"))}`,
  );
  return `#compdef tandem
# tandem completion for zsh: source <(tandem completion zsh), or save it as _tandem in a directory
# of $fpath. Generated from the command tree of this version.
typeset -gA _tandem_subs _tandem_opts
_tandem_subs=(
${subs.join("\n")}
)
_tandem_opts=(
${opts.join("\n")}
)
_tandem() {
  local p="" w next i
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    [[ $w == -* ]] && continue
    next=\${p:+$p }$w
    (( \${+_tandem_opts[$next]} )) && p=$next
  done
  local -a subs opts
  subs=(\${(f)_tandem_subs[$p]})
  opts=(\${(f)_tandem_opts[$p]})
  if [[ $PREFIX == -* ]]; then
    _describe -t options 'option' opts
  else
    _describe -t commands 'command' subs
  fi
}
if (( $+functions[compdef] )); then compdef _tandem tandem; fi
`;
}

function fish(table: PathEntry[]): string {
  const paths = table.filter((e) => e.path).map((e) => single(e.path));
  const lines = table.flatMap((e) => [
    ...e.subcommands.map(
      (s) =>
        `complete -c tandem -n ${single(`__tandem_at ${single(e.path)}`)} -a ${single(s.name)} -d ${single(s.description)}`,
    ),
    ...e.options.map(
      (o) =>
        `complete -c tandem -n ${single(`__tandem_at ${single(e.path)}`)} -l ${single(o.flag.slice(2))} -d ${single(o.description)}`,
    ),
  ]);
  return `# tandem completion for fish: tandem completion fish > ~/.config/fish/completions/tandem.fish
# Generated from the command tree of this version.
set -g __tandem_paths ${paths.join(" ")}
function __tandem_at
    set -l path
    for w in (commandline -opc)[2..-1]
        string match -q -- '-*' $w; and continue
        set -l next (string join ' ' $path $w)
        contains -- $next $__tandem_paths; and set path $path $w
    end
    set -l joined (string join ' ' $path)
    test "$joined" = "$argv[1]"
end
complete -c tandem -f
${lines.join("\n")}
`;
}

export function completionScript(program: Command, shell: string): string {
  const table = commandTable(program);
  switch (shell) {
    case "bash":
      return bash(table);
    case "zsh":
      return zsh(table);
    case "fish":
      return fish(table);
    default:
      throw new UsageError(`completion: expected one of ${SHELLS.join(", ")}, got ${shell}`);
  }
}

export function registerCompletionCommand(program: Command): void {
  program
    .command("completion")
    .description("Print a shell completion script for bash, zsh or fish (source <(tandem completion bash)).")
    .argument("<shell>", SHELLS.join(", "))
    .action((shell: string) => {
      process.stdout.write(completionScript(program, shell));
    });
}
