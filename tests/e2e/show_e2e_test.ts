/**
 * The real program, end to end: zero permissions, pipes, bad input, `| head`, and a terminal
 * (a pty from `script`, and tmux) for colour, in-place bars, Ctrl-C and --exit-after-time.
 */
import assert from "node:assert/strict";
import { GOLDEN_START } from "../_golden.ts";
import { has, PtyProcess, runMain, showCommand, Tmux, waitFor } from "./_run.ts";

const linux = Deno.build.os === "linux";
/** An SGR foreground colour sequence, ESC [ 3x m. */
const COLOUR = new RegExp(String.fromCharCode(27) + "\\[3\\dm");
const ptyReady = linux && has("script");
const tmuxReady = linux && has("tmux");

Deno.test("llm-sim plays a whole run with zero permissions, byte-identical to the golden", async () => {
  const r = await runMain([
    "--seed",
    "26",
    "--instant",
    "--exit-after-runs",
    "1",
    "--width",
    "80",
    "--start-time",
    GOLDEN_START,
  ]);
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  const golden = await Deno.readTextFile(new URL("../golden/show-seed26-w80.txt", import.meta.url));
  assert.equal(r.stdout, golden);
});

Deno.test("llm-sim piped writes plain lines: no escape byte at all", async () => {
  const r = await runMain(["--seed", "2", "--instant", "--exit-after-runs", "2"]);
  assert.equal(r.code, 0);
  assert.ok(r.stdout.length > 1000);
  assert.equal(r.stdout.includes("\x1b"), false);
});

Deno.test("llm-sim rejects bad input with one line on stderr and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--speed", "0"], /--speed must be a number from 0\.01/],
    [["--gpus", "12"], /--gpus must be 1–8 or a multiple of 8/],
    [["--model", "lama-3.1-8b"], /unknown model 'lama-3\.1-8b'; did you mean llama-3\.1-8b/],
    [["--gpu", "h10"], /unknown GPU 'h10'; did you mean .*h100/],
    [["--sed", "1"], /unknown flag '--sed'; did you mean --seed/],
    [["--exit-after-time", "soon"], /--exit-after-time must be a duration/],
    [["--precision", "int8"], /--precision must be one of bf16, fp16, fp8, fp32/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ];
  for (const [args, re] of cases) {
    const r = await runMain(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0] as string, re);
    assert.match(lines[0] as string, /^llm-sim: /);
  }
});

Deno.test("llm-sim runs a fixed configuration that cannot fit into PyTorch's out-of-memory error", async () => {
  const r = await runMain([
    "--model",
    "405b",
    "--gpus",
    "8",
    "--gpu",
    "h100",
    "--seed",
    "1",
    "--instant",
    "--exit-after-runs",
    "1",
  ]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /torch\.OutOfMemoryError: CUDA out of memory\. Tried to allocate /);
  assert.match(r.stdout, /GPU 0 has a total capacity of 79\.18 GiB/);
  assert.match(r.stdout, /ChildFailedError/);
  assert.match(r.stdout, /Run failed \(CUDA out of memory\): Llama-3\.1-405B/);
});

Deno.test("llm-sim --help, --version and --list answer on stdout with exit 0", async () => {
  const help = await runMain(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--exit-after-time/);
  const version = await runMain(["--version"]);
  assert.match(version.stdout, /^llm-sim \d+\.\d+\.\d+\n$/);
  const models = await runMain(["--list", "models"]);
  assert.match(models.stdout, /llama-3\.1-405b/);
});

Deno.test("llm-sim | head ends quietly", async () => {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `${
        showCommand(["--seed", "1", "--speed", "200"])
      } | head -n 5 >/dev/null; echo "\${PIPESTATUS[0]}"`,
    ],
    env: { TZ: "UTC" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(dec.decode(out.stderr), "", "nothing on stderr");
  assert.equal(dec.decode(out.stdout).trim(), "0");
});

Deno.test({
  name: "llm-sim on a TTY: Ctrl-C exits 130 with the cursor shown and attributes reset",
  ignore: !ptyReady,
  async fn() {
    const p = new PtyProcess(showCommand(["--seed", "2", "--speed", "50"]));
    await waitFor(
      () => p.output.includes("step ") && p.output.includes("\x1b[2K"),
      20000,
      "training with bars",
    );
    assert.ok(p.output.includes("\x1b[?25l"), "cursor hidden while the show runs");
    assert.match(p.output, COLOUR, "colour on a TTY");
    await p.send("\x03");
    const { code } = await p.wait();
    assert.equal(code, 130);
    const tail = p.output.slice(-40);
    assert.ok(tail.includes("\x1b[0m\x1b[?25h"), `restored at the end: ${JSON.stringify(tail)}`);
  },
});

Deno.test({
  name: "llm-sim on a TTY: SIGTERM exits 130 with the terminal restored",
  ignore: !ptyReady,
  async fn() {
    const p = new PtyProcess(showCommand(["--seed", "3", "--speed", "50"]));
    await waitFor(() => p.output.includes("Building "), 20000, "the model build line");
    const pid = await waitFor(() => p.programPid(), 5000, "the program's pid");
    Deno.kill(pid, "SIGTERM");
    const { code } = await p.wait();
    assert.equal(code, 130);
    assert.ok(p.output.endsWith("\x1b[0m\x1b[?25h"), "cursor shown, attributes reset");
  },
});

Deno.test({
  name: "llm-sim --exit-after-time 3s exits within 3 ± 0.5 s, wherever the show is",
  ignore: !ptyReady,
  async fn() {
    const p = new PtyProcess(showCommand(["--seed", "5", "--exit-after-time", "3s"]));
    const { code, ms } = await p.wait();
    assert.equal(code, 0);
    assert.ok(ms >= 2500 && ms <= 3500, `took ${Math.round(ms)} ms`);
    assert.ok(p.output.endsWith("\x1b[0m\x1b[?25h"), "terminal restored");
  },
});

Deno.test({
  name:
    "llm-sim in tmux: bars redraw in place, lines fit the width, NO_COLOR honoured, C-c exits 130",
  ignore: !tmuxReady,
  async fn() {
    const columns = 100;
    for (const noColor of [false, true]) {
      const t = new Tmux();
      try {
        t.start(
          showCommand(["--seed", "2", "--speed", "50"]),
          columns,
          40,
          { env: noColor ? { NO_COLOR: "1" } : {} },
        );
        const pane = await waitFor(
          () => {
            const s = t.capture();
            return /\d+%\|.*\|/.test(s) && /^GPUs \d+/m.test(s) ? s : null;
          },
          25000,
          "a bar and the GPU grid",
        );
        for (const line of pane.split("\n")) assert.ok(line.length <= columns, line);
        // The bar is redrawn in place: it appears once on screen, at the bottom region.
        assert.equal(pane.split("\n").filter((l) => /^step:\s+\d+%\|/.test(l)).length, 1);
        const withEscapes = t.capture(true);
        if (noColor) assert.equal(COLOUR.test(withEscapes), false, "NO_COLOR: no colour");
        else assert.match(withEscapes, COLOUR, "colour by default");
        t.keys("C-c");
        const end = await waitFor(
          () => {
            const s = t.capture();
            return /EXIT=\d+/.test(s) ? s : null;
          },
          10000,
          "the exit status",
        );
        assert.match(end, /EXIT=130/);
      } finally {
        t.kill();
      }
    }
  },
});
