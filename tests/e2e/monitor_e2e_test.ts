/**
 * `llm-sim monitor` driven like a person would, in tmux: an empty state, a run launched from
 * the form that appears and progresses, text generated from its checkpoint, a resize, and q
 * leaving the terminal as it was (no alternate screen, cursor visible).
 */
import assert from "node:assert/strict";
import { assertGolden } from "../_golden.ts";
import { has, MAIN, q, runMain, Tmux, waitFor } from "./_run.ts";

const DENO = Deno.execPath();
const ready = Deno.build.os === "linux" && has("tmux");

Deno.test("monitor without a terminal refuses in one line and points to status --json", async () => {
  const r = await runMain(["monitor"], { denoFlags: ["--allow-read=runs"] });
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "llm-sim: monitor needs a terminal; for scripts use llm-sim status --json (or runs --json)\n",
  );
});

Deno.test({
  name: "monitor in tmux: empty → launch from the form → progress → generate → resize → q restores",
  ignore: !ready,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "llm-sim-monitor-" });
    const runs = `${dir}/runs`;
    const t = new Tmux();
    const screen = () => t.capture();
    // what a person sees, compared with a golden (the clock in the header is the one moving part)
    const seen: string[] = [];
    const look = (name: string) =>
      seen.push(`== ${name}\n${screen().replace(/ · \d\d:\d\d:\d\d/, " · 00:00:00")}`);
    try {
      // from the run store's parent, with the default ./runs: paths on screen do not vary
      t.start(
        [
          DENO,
          "run",
          "--no-prompt",
          "--allow-read=runs",
          "--allow-write=runs",
          `--allow-run=${DENO}`,
          MAIN,
          "monitor",
        ]
          .map(q).join(" "),
        100,
        30,
        { cwd: dir },
      );
      await waitFor(() => screen().includes("No runs directory at"), 20_000, "the empty state");
      assert.match(screen(), /Press n to launch one\./);
      assert.equal(t.display("#{alternate_on}"), "1", "on the alternate screen");
      look("no runs yet");
      // the launch form: tinyshakespeare, 2 epochs
      t.keys("n");
      await waitFor(() => screen().includes("New run"), 15_000, "the form");
      t.keys("Down", "C-u");
      t.keys("-l", "tinyshakespeare");
      t.keys("Down", "C-u");
      t.keys("-l", "x");
      await waitFor(() => screen().includes("must be an integer"), 15_000, "the field's error");
      look("launch form, epochs mistyped");
      t.keys("BSpace");
      t.keys("-l", "2");
      t.keys("Enter");
      await waitFor(() => screen().includes("Enter launch · Esc back"), 15_000, "the confirmation");
      assert.match(screen(), /tiny_shakespeare: 2 epochs × \d+ steps/);
      look("launch confirmation");
      await assertGolden("monitor-tmux-100x30.txt", seen.join(""));
      t.keys("Enter");
      const launched = await waitFor(
        () => /launched (\S+) \(pid \d+\)/.exec(screen())?.[1] ?? null,
        20_000,
        "the launch message",
      );
      // the run records the command that replays it: train with the form's settings
      const meta = JSON.parse(Deno.readTextFileSync(`${runs}/${launched}/meta.json`));
      assert.deepEqual(meta.argv, [
        "train",
        "--detach",
        "--dataset",
        "tinyshakespeare",
        "--epochs",
        "2",
      ]);
      const step = () => Number(/step (\d+)\/\d+/.exec(screen())?.[1] ?? -1);
      const first = await waitFor(() => (step() > 0 ? step() : null), 30_000, "steps");
      await waitFor(() => (step() > first ? true : null), 30_000, "progress");
      assert.match(screen(), /running/);
      // generation from its first checkpoint
      await waitFor(
        () => /[1-9]\d* saved|step-\d+/.test(screen()) || step() >= 9 ? true : null,
        60_000,
        "a checkpoint",
      );
      await waitFor(
        async () => {
          t.keys("g");
          await new Promise((r) => setTimeout(r, 300));
          if (screen().includes("Generate from")) return true;
          t.keys("Escape");
          return null;
        },
        60_000,
        "the generate form",
      );
      t.keys("-l", "Call me");
      t.keys("Enter");
      t.keys("Enter");
      await waitFor(
        () => /\[80 tokens in [\d.]+ s, [\d.]+ tokens\/s/.test(screen()),
        30_000,
        "generated text",
      );
      assert.match(screen(), /Call me \S+/);
      t.keys("Escape");
      // a resize repaints the whole screen at the new size: every row framed, nothing left over
      t.resize(130, 36);
      const framed = (rows: string[]) =>
        rows.length >= 36 && rows.slice(1, 35).every((r) => /[│┐┘║╗╝]$/.test(r));
      const rows = await waitFor(
        () => {
          const r = screen().split("\n");
          return framed(r) ? r.slice(0, 36) : null;
        },
        15_000,
        "every row framed after the resize",
      ).catch((e) => {
        throw new Error(`${e.message}\n${screen()}`);
      });
      for (let i = 1; i < 35; i++) assert.ok([...rows[i]!].length <= 130, `row ${i} fits`);
      t.keys("q");
      await waitFor(() => screen().includes("EXIT=0"), 10_000, "monitor to quit");
      assert.equal(t.display("#{alternate_on}"), "0", "the alternate screen is left");
      assert.equal(t.display("#{cursor_flag}"), "1", "the cursor is visible");
    } finally {
      t.kill();
      // the launched run goes on after the monitor: stop it before cleaning up
      for (
        const id of (() => {
          try {
            return [...Deno.readDirSync(runs)].map((e) => e.name);
          } catch {
            return [];
          }
        })()
      ) {
        try {
          const pid = JSON.parse(Deno.readTextFileSync(`${runs}/${id}/state.json`)).pid;
          if (pid) Deno.kill(pid, "SIGKILL");
        } catch {
          // finished already
        }
      }
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "monitor in tmux: Ctrl-C (also inside a form) and SIGTERM exit 130 with the terminal restored",
  ignore: !ready,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "llm-sim-monitor-" });
    try {
      for (const how of ["C-c", "form C-c", "SIGTERM"]) {
        const t = new Tmux();
        try {
          t.start(
            [DENO, "run", "--no-prompt", "--allow-read=runs", MAIN, "monitor"].map(q).join(" "),
            80,
            24,
            {
              cwd: dir,
            },
          );
          await waitFor(
            () => t.capture().includes("Press n to launch one."),
            20_000,
            "the monitor",
          );
          if (how === "SIGTERM") {
            // the pane runs a shell; the monitor is its child
            const sh = t.display("#{pane_pid}");
            const sent = new Deno.Command("pkill", { args: ["-TERM", "-P", sh] }).outputSync();
            assert.ok(sent.success, "SIGTERM sent to the monitor");
          } else {
            if (how === "form C-c") {
              t.keys("n");
              await waitFor(() => t.capture().includes("New run"), 15_000, "the form");
            }
            t.keys("C-c");
          }
          await waitFor(() => t.capture().includes("EXIT=130"), 10_000, `exit 130 after ${how}`);
          assert.equal(t.display("#{alternate_on}"), "0", `${how}: the alternate screen is left`);
          assert.equal(t.display("#{cursor_flag}"), "1", `${how}: the cursor is visible`);
        } finally {
          t.kill();
        }
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
