/**
 * `--format jsonl`: every line parses, fields have the documented types, and the JSONL and the
 * text of one seed describe the same run (every logged step's loss agrees).
 */
import assert from "node:assert/strict";
import { VirtualClock } from "../lib/core/clock.ts";
import { runShow } from "../lib/core/scheduler.ts";
import type { Dialect, LogWindow } from "../lib/dialects/dialect.ts";
import { JsonlDialect } from "../lib/dialects/jsonl.ts";
import { TorchrunDialect } from "../lib/dialects/torchrun.ts";
import { MemoryTerminal } from "../lib/term/memory_terminal.ts";
import { Screen } from "../lib/term/screen.ts";
import { runMain } from "./e2e/_run.ts";

const START = Date.parse("2026-11-26T09:00:00Z");

async function play(make: () => Dialect, seed: number, wrap = false): Promise<string> {
  const term = new MemoryTerminal({ columns: 400 });
  await runShow({
    seed,
    exitAfterRuns: 1,
    tz: 0,
    request: {},
    replayFlags: "",
    dialect: make,
  }, { screen: new Screen(term, { wrap }), clock: new VirtualClock(START) });
  return term.text;
}

type Json = Record<string, unknown>;

const SCHEMA: Record<string, Record<string, string>> = {
  run_start: { time: "string", run: "number", seed: "number", config: "object", derived: "object" },
  load: { time: "string", source: "string", bytes: "number", duration_s: "number" },
  step: {
    time: "string",
    step: "number",
    epoch: "number",
    samples: "number",
    tokens: "number",
    loss: "number",
    lr: "number",
    grad_norm: "number",
    step_time_s: "number",
    tokens_per_s: "number",
    tokens_per_s_per_gpu: "number",
    tflops_per_gpu: "number",
    mfu: "number",
    loss_scale: "number",
    skipped: "boolean",
  },
  gpu: {
    time: "string",
    step: "number",
    host: "string",
    gpu: "number",
    rank: "number",
    util: "number",
    mem_used_mib: "number",
    mem_total_mib: "number",
    temp_c: "number",
    power_w: "number",
  },
  node: {
    time: "string",
    step: "number",
    host: "string",
    gpus: "number",
    util_avg: "number",
    mem_used_mib_avg: "number",
    temp_c_max: "number",
    power_w: "number",
  },
  eval: { time: "string", step: "number", loss: "number", perplexity: "number", best: "number" },
  checkpoint: { time: "string", step: "number", path: "string", bytes: "number" },
  export: { time: "string", dir: "string", total_size: "number", files: "object" },
  warning: { time: "string", id: "string", text: "string" },
  run_end: { time: "string", outcome: "string", steps_run: "number", gpu_hours: "number" },
};

function parseAll(text: string): Json[] {
  return text.trimEnd().split("\n").map((line, i) => {
    try {
      return JSON.parse(line) as Json;
    } catch {
      throw new Error(`line ${i + 1} is not JSON: ${line.slice(0, 120)}`);
    }
  });
}

Deno.test("JSONL: every line parses and every event has its documented fields and types", async () => {
  for (const seed of [26, 8, 38, 2, 17]) {
    const text = await play(() => new JsonlDialect(), seed);
    // lines written by templates are exactly what JSON.stringify would write
    for (const line of text.trimEnd().split("\n")) {
      assert.equal(JSON.stringify(JSON.parse(line)), line);
    }
    const events = parseAll(text);
    assert.equal(events[0]?.event, "run_start");
    assert.equal(events.at(-1)?.event, "run_end");
    let steps = 0;
    for (const e of events) {
      const schema = SCHEMA[e.event as string];
      if (!schema) continue; // lived-in events (overflow, fault, …) are checked elsewhere
      for (const [field, type] of Object.entries(schema)) {
        assert.equal(typeof e[field], type, `${e.event}.${field} in seed ${seed}`);
      }
      if (e.event === "step") steps++;
    }
    const end = events.at(-1)!;
    assert.equal(end.steps_run, steps, "run_end counts the step events");
    const start = events[0]!.config as Json;
    assert.equal(typeof start.gpus, "number");
    assert.equal(typeof (start.layout as Json).tp, "number");
  }
});

Deno.test("JSONL and text of one seed agree on every logged step's loss", async () => {
  for (const seed of [26, 8, 38]) {
    const windows: LogWindow[] = [];
    await play(() => {
      const d = new TorchrunDialect();
      const log = d.stepLog.bind(d);
      d.stepLog = (ctx, w) => (windows.push(w), log(ctx, w));
      return d;
    }, seed);
    const text = await play(() => new TorchrunDialect(), seed);
    const steps = parseAll(await play(() => new JsonlDialect(), seed))
      .filter((e) => e.event === "step");
    const byStep = new Map(steps.map((e) => [e.step as number, e.loss as number]));
    // every text step line's loss is the mean of the JSONL losses of its log window
    const re = /step (\d+)\/\d+ .*?\| loss (\d+\.\d{4}) \|/g;
    let m: RegExpExecArray | null;
    let logged = 0;
    let prev = windows[0] ? windows[0].last.step - windows[0].steps : 0;
    while ((m = re.exec(text)) !== null) {
      const step = Number(m[1]);
      const w = windows[logged++]!;
      assert.equal(w.last.step, step);
      let sum = 0;
      for (let s = prev + 1; s <= step; s++) sum += byStep.get(s)!;
      const mean = sum / (step - prev);
      assert.equal(Number(m[2]).toFixed(4), mean.toFixed(4), `seed ${seed} step ${step}`);
      prev = step;
    }
    assert.equal(logged, windows.length, "every window's line was found");
    assert.ok(logged > 10);
  }
});

Deno.test("llm-sim --instant --format jsonl streams parseable JSON with zero permissions", async () => {
  const r = await runMain([
    "--seed",
    "26",
    "--instant",
    "--exit-after-runs",
    "1",
    "--format",
    "jsonl",
  ]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  const events = parseAll(r.stdout);
  assert.ok(events.length > 50);
  assert.equal(r.stdout.includes("\x1b"), false);
});
