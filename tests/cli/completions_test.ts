/**
 * `llm-sim completions bash|zsh|fish`: every command and flag from the flag tables; the bash
 * script loads and completes (driven through COMP_WORDS/COMP_CWORD like bash does), fish's too
 * (`complete -C`), zsh's parses and registers. A shell that is not installed is skipped.
 */
import assert from "node:assert/strict";
import {
  commandSpecs,
  completionScript,
  parseCompletionsArgs,
  SHELLS,
} from "../../lib/cli/completions.ts";
import { UsageError } from "../../lib/cli/errors.ts";
import { DENO, has, MAIN, q, runMain } from "../e2e/_run.ts";

const dec = new TextDecoder();
const SOURCE = `source <(${
  [DENO, "run", "--no-prompt", MAIN, "completions", "bash"].map(q).join(" ")
})`;

async function sh(
  shell: string,
  script: string,
  opts: { cwd?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(shell, {
    args: ["-c", script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { LLM_SIM_RUNS: "" },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  }).output();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** A runs directory with two runs (and a folder that is no run). */
async function runsFixture(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "llm-sim-comp-" });
  for (
    const [id, file] of [["20261126-0900-gpt2", "meta.json"], ["20261126-1000-llama", "state.json"]]
  ) {
    await Deno.mkdir(`${dir}/runs/${id}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/runs/${id}/${file}`, "{}");
  }
  await Deno.mkdir(`${dir}/runs/not-a-run`);
  await Deno.mkdir(`${dir}/elsewhere/20270101-0000-other`, { recursive: true });
  await Deno.writeTextFile(`${dir}/elsewhere/20270101-0000-other/meta.json`, "{}");
  return dir;
}

Deno.test("completionScript('bash') keeps to bash 3.2 (macOS): no mapfile, readarray or maps", () => {
  const script = completionScript("bash");
  assert.doesNotMatch(script, /\b(mapfile|readarray|declare -A|local -A)\b/);
  assert.doesNotMatch(script, /\$\{\w+(,,|\^\^)\}/, "no case conversion");
});

Deno.test("completionScript() names every command and every flag of every flag table", () => {
  const specs = commandSpecs();
  const names = specs.map((c) => c.name);
  for (const cmd of ["plan", "train", "status", "runs", "logs", "stop", "resume", "init-config"]) {
    assert.ok(names.includes(cmd), cmd);
  }
  assert.ok(names.includes("generate") && names.includes("monitor"));
  assert.ok(!names.includes("worker"), "the internal worker command stays hidden");
  for (const shell of SHELLS) {
    const script = completionScript(shell);
    for (const c of specs) {
      if (c.name !== "") assert.ok(script.includes(c.name), `${shell}: ${c.name}`);
      for (const [flag, f] of Object.entries(c.flags)) {
        if (shell === "fish") {
          const cond = `-n '__llm_sim_is \\'${c.name}\\''`;
          const flagAt = new RegExp(` -l ${flag}( |$)`);
          assert.ok(
            script.split("\n").some((l) => l.includes(cond) && flagAt.test(l)),
            `fish: ${c.name || "(show)"} --${flag}`,
          );
        } else {
          assert.match(script, new RegExp(`--${flag}\\b`), `${shell}: ${c.name} --${flag}`);
        }
        const short = shell === "fish" ? `-s ${f.short}` : `-${f.short}`;
        if (f.short) assert.ok(script.includes(short), `${shell}: -${f.short}`);
      }
    }
    for (const v of ["megatron", "jsonl", "fp8", "llama-3.1-70b", "h100", "fineweb-edu", "zero3"]) {
      assert.ok(script.includes(v), `${shell} completes the value ${v}`);
    }
  }
});

Deno.test("parseCompletionsArgs() takes one shell name", () => {
  assert.equal(parseCompletionsArgs(["fish"]), "fish");
  assert.equal(parseCompletionsArgs(["--help"]), null);
  for (const argv of [[], ["tcsh"], ["bash", "zsh"]]) {
    assert.throws(() => parseCompletionsArgs(argv), UsageError, argv.join(" "));
  }
});

Deno.test("llm-sim completions prints the script; a wrong shell is one line and exit 2", async () => {
  const r = await runMain(["completions", "bash"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, completionScript("bash"));
  const bad = await runMain(["completions", "powershell"]);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    "llm-sim: completions takes one shell: bash, zsh or fish, not 'powershell'\n",
  );
});

Deno.test({
  name: has("bash")
    ? "bash completion loads without errors and completes commands, flags, values and run ids"
    : "bash completion (skipped: bash is not installed)",
  ignore: !has("bash"),
  async fn() {
    const dir = await runsFixture();
    try {
      const load = await sh("bash", `${SOURCE} && complete -p llm-sim`);
      assert.equal(load.err, "");
      assert.equal(load.code, 0);
      assert.equal(load.out, "complete -F _llm_sim llm-sim\n");
      const cases: [string[], string][] = [
        [["llm-sim", "tr"], "train"],
        [["llm-sim", "train", "--ep"], "--epochs"],
        [["llm-sim", "--sty"], "--style"],
        [["llm-sim", "--style", "me"], "megatron"],
        [["llm-sim", "--format", ""], "text jsonl"],
        [["llm-sim", "plan", "--sharding", "=", "zero"], "zero1 zero2 zero3"],
        [["llm-sim", "train", "--precision", "fp"], "fp16 fp8 fp32"],
        [["llm-sim", "--model", "llama-3.1-"], "llama-3.1-8b llama-3.1-70b llama-3.1-405b"],
        [["llm-sim", "train", "--dataset", "fineweb"], "fineweb fineweb-edu"],
        [["llm-sim", "status", ""], "20261126-0900-gpt2 20261126-1000-llama"],
        [["llm-sim", "generate", "--run", "2026"], "20261126-0900-gpt2 20261126-1000-llama"],
        [["llm-sim", "logs", "--runs-dir", "elsewhere", ""], "20270101-0000-other"],
        [["llm-sim", "completions", ""], "bash zsh fish"],
        [["llm-sim", "--seed", ""], ""],
      ];
      const calls = cases.map(([words]) =>
        `COMP_WORDS=(${words.map(q).join(" ")}); COMP_CWORD=${words.length - 1}; ` +
        `COMPREPLY=(); _llm_sim; echo "\${COMPREPLY[*]}"`
      );
      const r = await sh("bash", `${SOURCE}\n${calls.join("\n")}`, { cwd: dir });
      assert.equal(r.err, "");
      const got = r.out.split("\n");
      cases.forEach(([words, want], i) => assert.equal(got[i], want, words.join(" ")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: has("fish")
    ? "fish completion parses and completes commands, flags and run ids"
    : "fish completion (skipped: fish is not installed)",
  ignore: !has("fish"),
  async fn() {
    const dir = await runsFixture();
    const file = `${dir}/llm-sim.fish`;
    try {
      await Deno.writeTextFile(file, completionScript("fish"));
      const parse = await sh("fish", `fish -n ${q(file)}`);
      assert.equal(parse.err, "");
      assert.equal(parse.code, 0);
      const r = await sh(
        "fish",
        `source ${q(file)}; for c in 'llm-sim tr' 'llm-sim train --ep' 'llm-sim status ' ` +
          `'llm-sim --style meg' 'llm-sim plan --se'; complete -C "$c" | string replace -r '\\t.*' '' | string join ' '; end`,
        { cwd: dir },
      );
      assert.equal(r.err, "");
      assert.deepEqual(r.out.split("\n").slice(0, 5), [
        "train",
        "--epochs",
        "20261126-0900-gpt2 20261126-1000-llama",
        "megatron",
        "--seq",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: has("zsh")
    ? "zsh completion parses and registers with compdef"
    : "zsh completion (skipped: zsh is not installed)",
  ignore: !has("zsh"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "llm-sim-comp-" });
    const file = `${dir}/_llm-sim`;
    try {
      await Deno.writeTextFile(file, completionScript("zsh"));
      const parse = await sh("zsh", `zsh -n ${q(file)}`);
      assert.equal(parse.err, "");
      assert.equal(parse.code, 0);
      const r = await sh(
        "zsh",
        `autoload -U compinit && compinit -D -u && source ${
          q(file)
        } && print -r -- $_comps[llm-sim]`,
      );
      assert.equal(r.err, "");
      assert.equal(r.out, "_llm_sim\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
