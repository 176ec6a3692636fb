/** The monitor's keys: forms checked as typed, confirmations that show the engine's view, effects. */
import assert from "node:assert/strict";
import { mergeConfig } from "../../lib/trainer/config.ts";
import { parseKeys } from "../../lib/tui/keys.ts";
import {
  type Effect,
  initialState,
  type MonitorState,
  update,
  withRuns,
} from "../../lib/tui/monitor.ts";
import { fixture, NOW } from "./_monitor_fixture.ts";

function press(s: MonitorState, keys: string): { state: MonitorState; effects: Effect[] } {
  let state = s;
  const effects: Effect[] = [];
  for (const k of parseKeys(keys)) {
    const r = update(state, k);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

const UP = "\x1b[A", DOWN = "\x1b[B", RIGHT = "\x1b[C", BS = "\x7f", ESC = "\x1b";

Deno.test("the launch form checks each field as it is typed and shows the engine's plan before it launches", async () => {
  const s = await fixture(120, 40);
  let r = press(s, "n");
  assert.equal(r.state.form?.kind, "launch");
  assert.equal(r.state.form?.fields[r.state.form.focus]?.key, "model");
  // epochs: clear, type a word → an error on that field, named like the CLI's
  r = press(r.state, DOWN + DOWN + BS + "x");
  const epochs = r.state.form!.fields.find((f) => f.key === "epochs")!;
  assert.equal(epochs.value, "x");
  assert.match(epochs.error!, /must be an integer from 1 to 10000/);
  r = press(r.state, "\r");
  assert.equal(r.state.form?.stage, "edit", "Enter with an error stays");
  assert.equal(r.state.form?.error, "fix the marked field first");
  r = press(
    r.state,
    BS + "2" + DOWN + DOWN + DOWN + DOWN + BS + BS + BS + BS + "H100" + DOWN + BS + "8\r",
  );
  assert.equal(
    r.state.form?.stage,
    "confirm",
    JSON.stringify(r.state.form?.fields.filter((f) => f.error)),
  );
  const summary = r.state.form!.summary.join("\n");
  assert.match(summary, /^GPT-2 on 8 × NVIDIA H100 80GB HBM3 \(cuda:0, bf16\)$/m);
  assert.match(summary, /wikitext-2-raw-v1: 2 epochs × \d+ steps of 256 × 1024 tokens/);
  const done = press(r.state, "\r");
  assert.equal(done.state.form, null);
  assert.equal(done.effects.length, 1);
  const e = done.effects[0]!;
  assert.ok(e.kind === "launch");
  assert.equal(e.config.epochs, 2);
  assert.equal(e.config.device, "H100");
  assert.equal(e.config.gpus, 8);
  // the run records the command that replays it
  assert.deepEqual(e.argv, [
    "train",
    "--detach",
    "--epochs",
    "2",
    "--device",
    "H100",
    "--gpus",
    "8",
  ]);
  // a device the machine does not have is caught at the check, with the trainer's message
  const bad = press(s, "n" + DOWN + DOWN + DOWN + DOWN + DOWN + DOWN + DOWN + BS + "9\r");
  assert.equal(bad.state.form?.stage, "edit");
  assert.match(bad.state.form!.error!, /--gpus 9: not enough devices/);
  // the profile cycles with ←/→ and Esc closes the form without an effect
  const esc = press(s, "n" + UP + RIGHT + ESC);
  assert.equal(esc.state.form, null);
  assert.deepEqual(esc.effects, []);
});

Deno.test("resume, stop and generate act on the selected run; refusals say why", async () => {
  const s = await fixture(120, 40);
  // the first run is running: resume is refused, stop is confirmed first
  assert.match(press(s, "r").state.message!.text, /is running: stop it first/);
  let r = press(s, "s");
  assert.equal(r.state.form?.kind, "stop");
  assert.deepEqual(r.effects, []);
  r = press(r.state, "\r");
  assert.deepEqual(r.effects, [{ kind: "stop", id: s.runs[0]!.id }]);
  assert.deepEqual(press(s, "s" + ESC).effects, [], "Esc: no stop");
  // the completed run: resume with 2 more epochs from the latest checkpoint
  r = press(s, "j");
  assert.deepEqual(r.effects, [{ kind: "select", id: s.runs[1]!.id }]);
  r = press(r.state, "r" + BS + "2\r");
  // the confirmation names the checkpoint "latest" stands for and the steps the resume plays
  const done = s.runs[1]!.view!;
  const perEpoch = done.total_steps / done.epochs;
  assert.deepEqual(r.state.form?.summary, [
    `from step-${done.last_checkpoint} for 2 more epochs: steps ${done.total_steps + 1}–${
      done.total_steps + 2 * perEpoch
    }`,
    `the learning rate decays on from its value at step-${done.last_checkpoint} to the new end`,
  ]);
  r = press(r.state, "\r");
  assert.deepEqual(r.effects, [{
    kind: "resume",
    id: s.runs[1]!.id,
    checkpoint: "latest",
    moreEpochs: 2,
  }]);
  // generate: a prompt, then the text panel opens, streaming
  r = press(s, "jg" + "Call me\r\r");
  const g = r.effects.find((e) => e.kind === "generate");
  assert.ok(g?.kind === "generate", JSON.stringify(r.effects));
  assert.equal(g.prompt, "Call me");
  assert.equal(g.maxNewTokens, 80);
  assert.equal(r.state.output?.running, true);
  assert.deepEqual(press(r.state, ESC).effects, [{ kind: "cancel-generate" }]);
  // the broken run: nothing to act on
  r = press(s, "jj");
  assert.match(press(r.state, "g").state.message!.text, /select a run/);
  assert.match(press(r.state, "s").state.message!.text, /no running run/);
  // q quits; Ctrl-C quits from anywhere (a form too) as an interruption
  assert.deepEqual(press(s, "q").effects, [{ kind: "quit" }]);
  assert.deepEqual(press(s, "\x03").effects, [{ kind: "quit", interrupted: true }]);
  assert.deepEqual(press(s, "n\x03").effects, [{ kind: "quit", interrupted: true }]);
  assert.equal(press(s, "nq").state.form?.fields[1]?.value, "gpt2q", "q in a form is typed");
});

Deno.test("selection survives a refresh that reorders runs; empty lists are safe", async () => {
  const s = await fixture(120, 40);
  const second = press(s, "j").state;
  const reordered = withRuns(second, [second.runs[2]!, second.runs[1]!, second.runs[0]!], null);
  assert.equal(reordered.selected, 1, "still the same run");
  const empty = withRuns(initialState({ ...s, now: NOW }), [], "No runs directory at runs yet.");
  for (const k of ["j", "k", "r", "g", "s", "\r", "\t", "?"]) press(empty, k);
  assert.match(press(empty, "g").state.message!.text, /select a run/);
  assert.equal(press(empty, "n").state.form?.kind, "launch", "a first run can be launched");
});

Deno.test("the log scrolls up no further than its first line; another run's text panel closes", async () => {
  const s = await fixture(120, 40);
  const up = press(s, "\t" + "\x1b[5~".repeat(200)).state;
  assert.equal(up.focus, "detail");
  assert.equal(up.logScroll, s.log.length - 1, "one line still shows");
  assert.equal(press(up, "\x1b[6~").state.logScroll, s.log.length - 11, "PgDn comes back down");
  // text streaming from the completed run, then the selection moves on: it closes and stops
  const gen = press(s, "jgCall me\r\r").state;
  assert.equal(gen.output?.running, true);
  const moved = press(gen, "k");
  assert.equal(moved.state.output, null);
  assert.deepEqual(moved.effects, [{ kind: "select", id: s.runs[0]!.id }, {
    kind: "cancel-generate",
  }]);
});

Deno.test("a launch refused for one setting puts the cursor on that field, with the whole reason", async () => {
  const s = await fixture(120, 40);
  // precision fp8 on the default A30 (Ampere): the device check refuses it
  let r = press(s, "n" + DOWN.repeat(8));
  const precision = r.state.form!.fields.findIndex((f) => f.key === "precision");
  assert.equal(r.state.form?.fields[r.state.form.focus]?.key, "precision");
  while (r.state.form!.fields[precision]!.value !== "fp8") r = press(r.state, RIGHT);
  r = press(r.state, UP.repeat(8) + "\r");
  assert.equal(r.state.form?.stage, "edit");
  assert.equal(r.state.form?.focus, precision);
  assert.match(r.state.form!.error!, /^--precision fp8: .*A30/);
});

Deno.test("a launch records the command that replays it, over the config file train would read", async () => {
  const s = {
    ...await fixture(120, 40),
    runsDir: "/data/runs",
    profiles: [{ name: "defaults", settings: {} }, {
      name: "llm-sim.toml",
      settings: { epochs: 5, lr: 3e-4 },
    }],
  };
  const launched = (keys: string) => {
    const e = press(s, keys).effects.find((x) => x.kind === "launch");
    assert.ok(e?.kind === "launch", keys);
    return e;
  };
  // the file's profile, epochs set back to 3: --config and what differs from the file
  const fromFile = launched("n" + UP + RIGHT + DOWN + DOWN + DOWN + BS + "3\r\r");
  assert.equal(fromFile.config.epochs, 3);
  assert.equal(fromFile.config.lr, 3e-4);
  assert.deepEqual(fromFile.argv, [
    "train",
    "--detach",
    "--config",
    "llm-sim.toml",
    "--epochs",
    "3",
    "--runs-dir",
    "/data/runs",
  ]);
  // the defaults while ./llm-sim.toml exists (train would read it): every setting, spelled out
  const spelled = launched("n\r\r");
  assert.equal(spelled.config.epochs, 3);
  const flags = new Map<string, string>();
  for (let i = 2; i < spelled.argv.length; i += 2) {
    flags.set(spelled.argv[i]!, spelled.argv[i + 1] ?? "");
  }
  assert.equal(flags.get("--epochs"), "3");
  assert.equal(flags.get("--lr"), String(mergeConfig({}).lr));
  assert.equal(flags.get("--model"), "gpt2");
  assert.equal(flags.get("--runs-dir"), "/data/runs");
});
