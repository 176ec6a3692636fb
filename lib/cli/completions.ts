/**
 * `llm-sim completions bash|zsh|fish`: shell completion scripts generated from the commands'
 * own flag tables (show, plan, trainer commands, generate), with the values a flag takes from
 * the catalogs and choice lists, and run ids listed from the runs directory by the shell itself
 * when it completes (no llm-sim call at completion time). Pure: returns text.
 */
import { MONITOR_FLAGS } from "./monitor_args.ts";
import { DATASETS, GPUS, MODELS } from "../data.ts";
import { STYLES } from "../dialects/mod.ts";
import { CONFIG_KEYS } from "../trainer/config.ts";
import { UsageError } from "./errors.ts";
import { bool, type FlagSpec, parseFlags } from "./flags.ts";
import { GENERATE_FLAGS } from "./generate_args.ts";
import { FRAMEWORKS, MLPS, PLAN_FLAGS, PRECISIONS, RECOMPUTES, SHARDINGS } from "./plan.ts";
import { FORMATS, LISTS, SHOW_FLAGS, SHOW_PRECISIONS } from "./show_config.ts";
import { TRAINER_COMMANDS, TRAINER_FLAGS } from "./trainer_args.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = typeof SHELLS[number];

/** What a flag's value (or a positional argument) completes to. */
export type Values = readonly string[] | "runs" | "files" | "dirs" | "any";

export interface CommandSpec {
  /** "" for the show (no command word). */
  name: string;
  about: string;
  flags: FlagSpec;
  /** Values of the flags that take one; a string flag not listed takes "any". */
  values: Record<string, Values>;
  positional: Values | null;
}

export const COMPLETIONS_FLAGS: FlagSpec = { help: { type: "boolean", short: "h" } };

export const COMPLETIONS_HELP = `llm-sim completions: print a shell completion script.

Usage:
  llm-sim completions bash|zsh|fish

  bash   source <(llm-sim completions bash)            (in ~/.bashrc)
  zsh    source <(llm-sim completions zsh)             (in ~/.zshrc, after compinit)
  fish   llm-sim completions fish | source             (or save it as
         ~/.config/fish/completions/llm-sim.fish)

Commands, every flag, the values of --style, --format, --precision, --model, --gpu, --dataset
and the other choice flags, and run ids (listed from --runs-dir, $LLM_SIM_RUNS or ./runs).
`;

/** `llm-sim completions …`: the shell, or null for --help. */
export function parseCompletionsArgs(argv: string[]): Shell | null {
  const p = parseFlags(argv, COMPLETIONS_FLAGS, "llm-sim completions");
  if (bool(p, "help")) return null;
  const [shell, ...rest] = p.positionals;
  if (shell === undefined || rest.length > 0 || !(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(
      `completions takes one shell: bash, zsh or fish${
        shell === undefined ? "" : `, not '${p.positionals.join(" ")}'`
      }`,
    );
  }
  return shell as Shell;
}

/** Names a shell word can hold as is. */
function words(names: readonly string[]): string[] {
  return [...new Set(names.filter((n) => /^[\w.+:-]+$/.test(n)))];
}

const MODEL_NAMES = words(MODELS.flatMap((m) => [m.id, ...m.aliases]));
const GPU_NAMES = words(
  GPUS.filter((g) => g.vendor === "nvidia").flatMap((g) => [g.id, ...g.aliases]),
);
const DATASET_NAMES = words(DATASETS.map((d) => d.id));

const ABOUT: Record<string, string> = {
  plan: "what a training run would take",
  train: "one simulated run of your own",
  status: "where a run stands",
  runs: "every run",
  logs: "what a run printed",
  stop: "stop a run gracefully",
  resume: "continue a run for N more epochs",
  "init-config": "write a commented llm-sim.toml",
  generate: "sample text from a run's checkpoint",
  monitor: "watch runs live",
  completions: "print a shell completion script",
};

/** Every command with its flags and what their values complete to. */
export function commandSpecs(): CommandSpec[] {
  const trainerValues: Record<string, Values> = {
    model: MODEL_NAMES,
    dataset: DATASET_NAMES,
    device: ["auto", "cpu", "cuda", ...GPU_NAMES],
    config: "files",
    "runs-dir": "dirs",
    checkpoint: ["latest"],
  };
  for (const k of CONFIG_KEYS) if (k.choices) trainerValues[k.flag.slice(2)] = k.choices;
  const specs: CommandSpec[] = [
    {
      name: "",
      about: "the show",
      flags: SHOW_FLAGS,
      values: {
        style: STYLES,
        format: FORMATS,
        precision: SHOW_PRECISIONS,
        model: MODEL_NAMES,
        gpu: GPU_NAMES,
        list: LISTS,
        record: "files",
      },
      positional: null,
    },
    {
      name: "plan",
      about: ABOUT.plan as string,
      flags: PLAN_FLAGS,
      values: {
        model: MODEL_NAMES,
        gpu: GPU_NAMES,
        mlp: MLPS,
        sharding: SHARDINGS,
        recompute: RECOMPUTES,
        framework: FRAMEWORKS,
        precision: PRECISIONS,
      },
      positional: null,
    },
  ];
  for (const name of TRAINER_COMMANDS) {
    specs.push({
      name,
      about: ABOUT[name] ?? name,
      flags: TRAINER_FLAGS[name],
      values: trainerValues,
      positional: ["status", "logs", "stop", "resume"].includes(name)
        ? "runs"
        : name === "init-config"
        ? "files"
        : null,
    });
  }
  specs.push(
    {
      name: "generate",
      about: ABOUT.generate as string,
      flags: GENERATE_FLAGS,
      values: { run: "runs", checkpoint: ["latest"], "runs-dir": "dirs" },
      positional: null,
    },
    {
      name: "monitor",
      about: ABOUT.monitor as string,
      flags: MONITOR_FLAGS,
      values: { "runs-dir": "dirs" },
      positional: null,
    },
    {
      name: "completions",
      about: ABOUT.completions as string,
      flags: COMPLETIONS_FLAGS,
      values: {},
      positional: SHELLS,
    },
  );
  return specs;
}

interface FlagInfo {
  long: string;
  short: string | undefined;
  /** null: a switch, takes no value. */
  values: Values | null;
}

function flagsOf(c: CommandSpec): FlagInfo[] {
  return Object.entries(c.flags).map(([name, f]) => ({
    long: name,
    short: f.short,
    values: f.type === "boolean" ? null : c.values[name] ?? "any",
  }));
}

function flagWords(c: CommandSpec): string {
  return flagsOf(c).flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]).join(
    " ",
  );
}

/** `(cmd, --flag)` pairs grouped by what their values complete to. */
function valueGroups(specs: CommandSpec[]): { values: Values; keys: string[] }[] {
  const groups = new Map<string, { values: Values; keys: string[] }>();
  for (const c of specs) {
    for (const f of flagsOf(c)) {
      if (f.values === null) continue;
      const id = typeof f.values === "string" ? f.values : f.values.join(" ");
      const g = groups.get(id) ?? { values: f.values, keys: [] };
      g.keys.push(`${c.name} --${f.long}`);
      if (f.short) g.keys.push(`${c.name} -${f.short}`);
      groups.set(id, g);
    }
  }
  return [...groups.values()];
}

const COMMAND_NAMES = (specs: CommandSpec[]) =>
  specs.filter((c) => c.name !== "").map((c) => c.name);

function bash(specs: CommandSpec[]): string {
  const cmds = COMMAND_NAMES(specs);
  const action = (v: Values): string =>
    v === "runs"
      ? `_llm_sim_reply -W "$(_llm_sim_runs)" -- "$cur"`
      : v === "files"
      ? `compopt -o filenames 2>/dev/null; _llm_sim_reply -f -- "$cur"`
      : v === "dirs"
      ? `compopt -o filenames 2>/dev/null; _llm_sim_reply -d -- "$cur"`
      : v === "any"
      ? `:`
      : `_llm_sim_reply -W "${v.join(" ")}" -- "$cur"`;
  const values = valueGroups(specs).map((g) =>
    `    ${g.keys.map((k) => `"${k}"`).join("|")})\n      ${action(g.values)}\n      return ;;`
  ).join("\n");
  const flags = specs.map((c) => `    "${c.name}") flags="${flagWords(c)}" ;;`).join("\n");
  const positionals = specs.filter((c) => c.positional !== null && c.name !== "").map((c) =>
    `    ${c.name}) ${action(c.positional as Values)} ;;`
  ).join("\n");
  return `# llm-sim completion for bash. Load it with:  source <(llm-sim completions bash)

# COMPREPLY from compgen's lines, one a word, in a way bash 3.2 (macOS) knows too.
_llm_sim_reply() {
  local line
  COMPREPLY=()
  while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen "$@")
}

# Run ids: the directories of --runs-dir (or $LLM_SIM_RUNS, else ./runs) holding a run.
_llm_sim_runs() {
  local dir=\${LLM_SIM_RUNS:-runs} i d
  for ((i = 1; i < \${#COMP_WORDS[@]}; i++)); do
    if [[ \${COMP_WORDS[i]} == --runs-dir ]]; then
      d=\${COMP_WORDS[i+1]}
      [[ $d == = ]] && d=\${COMP_WORDS[i+2]}
      [[ -n $d ]] && dir=$d
    fi
  done
  for d in "$dir"/*/; do
    [[ -e \${d}meta.json || -e \${d}state.json ]] && d=\${d%/} && printf '%s\\n' "\${d##*/}"
  done
}

_llm_sim() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd="" flags=""
  COMPREPLY=()
  # bash splits --flag=value at the '='
  if [[ $cur == = ]]; then
    cur=""
  elif [[ $prev == = ]] && ((COMP_CWORD > 2)); then
    prev=\${COMP_WORDS[COMP_CWORD-2]}
  fi
  if ((COMP_CWORD > 1)); then
    case \${COMP_WORDS[1]} in
      ${cmds.join("|")}) cmd=\${COMP_WORDS[1]} ;;
    esac
  fi
  case "$cmd $prev" in
${values}
  esac
  if [[ $cur == -* ]]; then
    case $cmd in
${flags}
    esac
    _llm_sim_reply -W "$flags" -- "$cur"
    return
  fi
  if ((COMP_CWORD == 1)); then
    _llm_sim_reply -W "${cmds.join(" ")}" -- "$cur"
    return
  fi
  case $cmd in
${positionals}
  esac
}

complete -F _llm_sim llm-sim
`;
}

function zsh(specs: CommandSpec[]): string {
  const cmds = COMMAND_NAMES(specs);
  const action = (v: Values): string =>
    v === "runs"
      ? "_llm_sim_runs"
      : v === "files"
      ? "_files"
      : v === "dirs"
      ? "_files -/"
      : v === "any"
      ? ":"
      : `compadd -- ${v.join(" ")}`;
  const values = valueGroups(specs).map((g) =>
    `    (${g.keys.map((k) => `"${k}"`).join("|")})\n      ${action(g.values)}\n      return ;;`
  ).join("\n");
  const flags = specs.map((c) => `    ("${c.name}") compadd -- ${flagWords(c)} ;;`).join("\n");
  const positionals = specs.filter((c) => c.positional !== null && c.name !== "").map((c) =>
    `    (${c.name}) ${action(c.positional as Values)} ;;`
  ).join("\n");
  const described = cmds.map((n) =>
    `'${n}:${(specs.find((c) => c.name === n)?.about ?? n).replaceAll("'", `'\\''`)}'`
  );
  return `#compdef llm-sim
# llm-sim completion for zsh. Load it with:  source <(llm-sim completions zsh)  (after
# compinit), or save it as _llm-sim in a directory on $fpath.

# Run ids: the directories of --runs-dir (or $LLM_SIM_RUNS, else ./runs) holding a run.
_llm_sim_runs() {
  local dir=\${LLM_SIM_RUNS:-runs} i d
  local -a ids
  for (( i = 2; i < CURRENT; i++ )); do
    [[ \${words[i]} == --runs-dir ]] && dir=\${words[i+1]}
    [[ \${words[i]} == --runs-dir=* ]] && dir=\${words[i]#--runs-dir=}
  done
  for d in $dir/*(N/); do
    [[ -e $d/meta.json || -e $d/state.json ]] && ids+=(\${d:t})
  done
  compadd -a ids
}

_llm_sim() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]} cmd=""
  if [[ $cur == --*=* ]]; then
    prev=\${cur%%=*}
    compset -P '*='
    cur=\${cur#*=}
  fi
  if (( CURRENT > 2 )); then
    case \${words[2]} in
      (${cmds.join("|")}) cmd=\${words[2]} ;;
    esac
  fi
  case "$cmd $prev" in
${values}
  esac
  if [[ $cur == -* ]]; then
    case $cmd in
${flags}
    esac
    return
  fi
  if (( CURRENT == 2 )); then
    local -a commands=(${described.join(" ")})
    _describe command commands
    return
  fi
  case $cmd in
${positionals}
  esac
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _llm_sim "$@"
elif (( $+functions[compdef] )); then
  compdef _llm_sim llm-sim
else
  print -u2 "llm-sim completions: run 'autoload -U compinit && compinit' before loading them"
fi
`;
}

function fish(specs: CommandSpec[]): string {
  const cmds = COMMAND_NAMES(specs);
  const q = (s: string) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  const action = (v: Values): string =>
    v === "runs"
      ? `-x -a '(__llm_sim_runs)'`
      : v === "files"
      ? `-r -F`
      : v === "dirs"
      ? `-x -a '(__fish_complete_directories)'`
      : v === "any"
      ? `-x`
      : `-x -a ${q(v.join(" "))}`;
  const lines: string[] = [];
  for (const n of cmds) {
    const about = specs.find((c) => c.name === n)?.about ?? n;
    lines.push(`complete -c llm-sim -n __llm_sim_first -a ${n} -d ${q(about)}`);
  }
  for (const c of specs) {
    const cond = `-n ${q(`__llm_sim_is '${c.name}'`)}`;
    for (const f of flagsOf(c)) {
      const short = f.short ? ` -s ${f.short}` : "";
      lines.push(
        `complete -c llm-sim ${cond}${short} -l ${f.long}${
          f.values === null ? "" : " " + action(f.values)
        }`,
      );
    }
    if (c.positional !== null && c.name !== "") {
      const p = c.positional;
      lines.push(
        `complete -c llm-sim ${cond} ${
          p === "runs"
            ? "-a '(__llm_sim_runs)'"
            : p === "files"
            ? "-F"
            : p === "dirs"
            ? "-a '(__fish_complete_directories)'"
            : p === "any"
            ? ""
            : `-a ${q(p.join(" "))}`
        }`.trimEnd(),
      );
    }
  }
  return `# llm-sim completion for fish. Load it with:  llm-sim completions fish | source
# or save it as ~/.config/fish/completions/llm-sim.fish

# The command word (plan, train, …), or nothing for the show.
function __llm_sim_cmd
    set -l t (commandline -opc)
    if set -q t[2]; and contains -- $t[2] ${cmds.join(" ")}
        echo $t[2]
    end
end

function __llm_sim_is
    set -l c (__llm_sim_cmd)
    test "$c" = "$argv[1]"
end

function __llm_sim_first
    test (count (commandline -opc)) -eq 1
end

# Run ids: the directories of --runs-dir (or $LLM_SIM_RUNS, else ./runs) holding a run.
function __llm_sim_runs
    set -l dir runs
    set -q LLM_SIM_RUNS; and test -n "$LLM_SIM_RUNS"; and set dir $LLM_SIM_RUNS
    set -l t (commandline -opc)
    for i in (seq (count $t))
        set -l next (math $i + 1)
        if test "$t[$i]" = --runs-dir; and set -q t[$next]
            set dir $t[$next]
        else if string match -q -- '--runs-dir=*' $t[$i]
            set dir (string replace -- '--runs-dir=' '' $t[$i])
        end
    end
    for d in $dir/*/
        if test -e $d/meta.json -o -e $d/state.json
            basename $d
        end
    end
end

complete -c llm-sim -f
${lines.join("\n")}
`;
}

/** The completion script for a shell. */
export function completionScript(shell: Shell): string {
  const specs = commandSpecs();
  return shell === "bash" ? bash(specs) : shell === "zsh" ? zsh(specs) : fish(specs);
}
