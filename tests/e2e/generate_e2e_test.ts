/** `llm-sim generate` through the real program: same seed same text, JSON, one-line refusals. */
import assert from "node:assert/strict";
import { runMain } from "./_run.ts";

const DENO = Deno.execPath();

Deno.test("generate: the same seed gives the same text, with a final statistics line; --json", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "llm-sim-gen-" });
  const perms = ["--allow-read=runs", "--allow-write=runs", `--allow-run=${DENO}`];
  const run = (args: string[]) => runMain(args, { cwd: dir, denoFlags: perms });
  try {
    const bad = async (args: string[], want: RegExp) => {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, want);
    };
    await bad(["generate"], /no runs in runs yet|no completed run in runs/);
    const t = await run(["train", "--instant", "--epochs", "1", "--dataset", "tinyshakespeare"]);
    assert.equal(t.code, 0, t.stderr);
    const id = /Run (\S+) · runs\//.exec(t.stdout)![1]!;
    const args = [
      "generate",
      "--prompt",
      "Call me Ishmael.",
      "--max-new-tokens",
      "30",
      "--seed",
      "5",
      "--instant",
    ];
    const a = await run(args), b = await run(args);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    const lines = a.stdout.trimEnd().split("\n");
    assert.ok(lines[0]!.startsWith("Call me Ishmael. "));
    assert.match(
      lines.at(-1)!,
      new RegExp(
        `^\\[30 tokens in [\\d.]+ s, [\\d.]+ tokens/s · prompt 4 tokens in [\\d.]+ ms · cuda:0 NVIDIA A30 · ${id} step-\\d+, loss [\\d.]+ → [1-4]-gram, T ≥ [\\d.]+; seed 5\\]$`,
      ),
    );
    const j = await run([
      "generate",
      "--run",
      id,
      "--max-new-tokens",
      "12",
      "--seed",
      "5",
      "--json",
    ]);
    assert.equal(j.code, 0, j.stderr);
    const o = JSON.parse(j.stdout);
    assert.equal(o.run, id);
    assert.equal(o.tokens, 12);
    assert.equal(typeof o.text, "string");
    assert.ok(o.text.split(" ").length >= 8);
    assert.ok(o.tokens_per_s > 100 && o.tokens_per_s < 100_000, `${o.tokens_per_s} tokens/s`);
    assert.ok(o.quality.order >= 1 && o.quality.order <= 4);
    for (
      const [flags, want] of [
        [["--temperature=-1"], /--temperature must be a number from 0/],
        [["--top-k=-1"], /--top-k must be a whole number from 0/],
        [["--top-p", "0"], /--top-p must be above 0/],
        [["--top-p", "1.5"], /--top-p must be a number from 0 to 1/],
        [["--max-new-tokens", "0"], /--max-new-tokens must be a whole number from 1 to 4096/],
        [["--max-new-tokens", "5000"], /--max-new-tokens must be a whole number from 1 to 4096/],
        [["--run", "nope"], /unknown run 'nope'/],
        [["--run", id, "--checkpoint", "3"], /has no checkpoint at step 3 \(saved: step-\d+\)/],
      ] as const
    ) await bad(["generate", ...flags], want);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("generate on a run with no checkpoint yet says so", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "llm-sim-gen-" });
  const perms = ["--allow-read=runs", "--allow-write=runs", `--allow-run=${DENO}`];
  const run = (args: string[]) => runMain(args, { cwd: dir, denoFlags: perms });
  try {
    const s = await run(["train", "--detach", "--speed", "0.2"]);
    assert.equal(s.code, 0, s.stderr);
    const [, id, pid] = /started run (\S+) .*\(pid (\d+)\)/.exec(s.stdout)!;
    const r = await run(["generate", "--run", id!]);
    Deno.kill(Number(pid), "SIGKILL");
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`run ${id} has no checkpoint yet: generate needs one`));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
