/**
 * The Hugging Face Trainer dialect: a golden excerpt of one fine-tune, and a parser written from
 * REALISM 1.4 that must find every `{'loss': …}` dict and recover the engine's numbers.
 */
import assert from "node:assert/strict";
import { GPUS } from "../../lib/data.ts";
import { bf16Round, HfDialect, pyRound } from "../../lib/dialects/hf.ts";
import type { Precision } from "../../lib/engine/types.ts";
import { assertGolden } from "../_golden.ts";
import { near, play } from "./_harness.ts";

const A100 = GPUS.find((g) => g.id === "a100-80gb");
if (!A100) throw new Error("a100-80gb missing from the catalog");

/** First lines, the first evaluation and checkpoint, and the end of a log. */
function excerpt(text: string, marks: RegExp[], head = 120, tail = 40): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const keep = new Set<number>();
  for (let i = 0; i < Math.min(head, lines.length); i++) keep.add(i);
  for (const re of marks) {
    const at = lines.findIndex((l) => re.test(l));
    if (at < 0) continue;
    for (let i = Math.max(0, at - 6); i < Math.min(lines.length, at + 10); i++) keep.add(i);
  }
  for (let i = Math.max(0, lines.length - tail); i < lines.length; i++) keep.add(i);
  const out: string[] = [];
  let last = -1;
  for (const i of [...keep].sort((a, b) => a - b)) {
    if (i !== last + 1) out.push(`[... ${i - last - 1} lines ...]`);
    out.push(lines[i] as string);
    last = i;
  }
  return out.join("\n") + "\n";
}

const LOG_DICT =
  /^\{'loss': (\d+\.\d+), 'grad_norm': (inf|[0-9.e+-]+), 'learning_rate': ([0-9.e+-]+), 'epoch': (\d+\.\d+)\}$/gm;

Deno.test("HfDialect golden excerpt of a fine-tune (seed 5)", async () => {
  const { text } = await play(() => new HfDialect(), { framework: "hf", kind: "finetune" }, 5, {
    wrap: false,
  });
  const gold = excerpt(text, [
    /Model config /,
    /^(Loading checkpoint shards|model\.safetensors): /,
    /\*\*\*\*\* Running training \*\*\*\*\*/,
    /\*\*\*\*\* Running Evaluation \*\*\*\*\*/,
    /Deleting older checkpoint/,
  ]);
  assert.ok(gold.length < 40_000, `golden excerpt is ${gold.length} bytes`);
  await assertGolden("dialect-hf.txt", gold);
});

const CASES: { seed: number; precision: Precision }[] = [
  { seed: 5, precision: "bf16" },
  { seed: 3, precision: "bf16" },
  { seed: 2, precision: "fp16" },
  { seed: 6, precision: "fp16" },
];

for (const { seed, precision } of CASES) {
  Deno.test(`HfDialect log dicts parse back to the engine's numbers (seed ${seed}, ${precision} on A100)`, async () => {
    const p = await play(
      () => new HfDialect(),
      { framework: "hf", kind: "finetune", precision, gpu: A100 },
      seed,
      { wrap: false },
    );
    assert.equal(p.cfg.precision, precision);
    const found = [...p.text.matchAll(LOG_DICT)];
    assert.equal(found.length, p.windows.length, "one log dict per logging window");
    assert.ok(found.length > 10);
    found.forEach((m, i) => {
      const w = p.windows[i];
      assert.ok(w);
      const r = w.last;
      const [, loss, grad, lr, epoch] = m as unknown as string[];
      assert.ok(near(Number(loss), w.meanLoss, 4), `loss ${loss} vs ${w.meanLoss}`);
      assert.equal(loss, pyRound(w.meanLoss, 4), "loss is repr(round(mean, 4))");
      assert.equal(Number(lr), r.lr, "learning_rate round-trips exactly");
      if (r.skipped) assert.equal(grad, "inf", "an overflowed fp16 step has an inf norm");
      else {
        const want = precision === "bf16" ? bf16Round(r.gradNorm) : Math.fround(r.gradNorm);
        assert.equal(Number(grad), want, `grad_norm ${grad}`);
      }
      assert.ok(near(Number(epoch), r.epochFloat, 2), `epoch ${epoch} vs ${r.epochFloat}`);
    });
    // the banner states the hidden configuration
    const c = p.cfg;
    const fmt = (n: number) => n.toLocaleString("en-US");
    assert.match(p.text, new RegExp(`>>   Num examples = ${fmt(c.samplesPerEpoch)}$`, "m"));
    assert.match(p.text, new RegExp(`>>   Num Epochs = ${c.epochs}$`, "m"));
    assert.match(
      p.text,
      new RegExp(`>>   Instantaneous batch size per device = ${c.layout.microBatch}$`, "m"),
    );
    assert.match(
      p.text,
      new RegExp(
        `>>   Total train batch size \\(w\\. parallel, distributed & accumulation\\) = ${
          fmt(c.globalBatch)
        }$`,
        "m",
      ),
    );
    assert.match(p.text, new RegExp(`>>   Total optimization steps = ${fmt(c.totalSteps)}$`, "m"));
    // evaluation dicts: unrounded float32 loss, speed metrics rounded as speed_metrics does
    const evals = [...p.text.matchAll(
      /^\{'eval_loss': ([0-9.e+-]+), 'eval_runtime': (\d+\.\d+), 'eval_samples_per_second': (\d+\.\d+), 'eval_steps_per_second': (\d+\.\d+), 'epoch': (\d+\.\d+)\}$/gm,
    )];
    assert.ok(evals.length > 0);
    for (const m of evals) {
      const loss = Number(m[1]);
      assert.equal(Math.fround(loss), loss, "eval_loss is a float32 value");
      assert.ok(loss > 0 && loss < 20);
    }
    // a log file holds only finished bars: no 0 % frames, the load bar once
    assert.doesNotMatch(p.text, /^\s+0%\|/m);
    const loads = p.text.match(/^(Loading checkpoint shards|model\.safetensors): 100%\|/gm) ?? [];
    assert.equal(loads.length, 1);
    assert.match(
      p.text,
      /^\{'train_runtime': \d+\.\d+, 'train_samples_per_second': \d+\.\d+, 'train_steps_per_second': \d+\.\d+, 'train_loss': [0-9.e+-]+, 'epoch': \d+\.\d+\}$/m,
    );
    assert.match(
      p.text,
      /^\*\*\*\*\* train metrics \*\*\*\*\*\n {2}epoch {20}= +\d+\.\d+\n {2}total_flos {15}= +\d+GF$/m,
    );
  });
}

Deno.test("pyRound() prints repr(round(x, d))", () => {
  assert.equal(pyRound(1.37355, 4), "1.3736");
  assert.equal(pyRound(1, 4), "1.0");
  assert.equal(pyRound(0.3333333, 2), "0.33");
  assert.equal(pyRound(2.5, 2), "2.5");
  assert.equal(pyRound(0, 4), "0.0");
});

Deno.test("bf16Round() keeps 8 significant bits, ties to even", () => {
  assert.equal(bf16Round(1.1015625), 1.1015625);
  assert.equal(bf16Round(3.4177560806274414), 3.421875);
  assert.equal(bf16Round(1 + 2 ** -8), 1); // tie: 1.00000000|1 → even
  assert.equal(bf16Round(1 + 3 * 2 ** -8), 1 + 2 ** -6); // tie rounds up to even
  assert.equal(bf16Round(0.01251220703125), 0.01251220703125);
});

Deno.test("HfDialect ends with the run's epoch, and a run that did every step is complete", async () => {
  let complete = 0;
  // seed 4 logs its last window before the last step; seed 17 runs out of patience at the last
  // evaluation (after every step)
  for (const seed of [4, 17, 5, 3]) {
    const p = await play(() => new HfDialect(), { framework: "hf", kind: "finetune" }, seed, {
      wrap: false,
    });
    const c = p.cfg;
    const epochs = Number(/>> {3}Num Epochs = (\d+)$/m.exec(p.text)![1]);
    assert.equal(epochs, c.epochs);
    const final = Number(/^\{'train_runtime': .*'epoch': (\d+\.\d+)\}$/m.exec(p.text)![1]);
    const block = Number(/^ {2}epoch {20}= +(\d+\.\d+)$/m.exec(p.text)![1]);
    const steps = Number(/^\| Steps +\| (\d+) /m.exec(p.text)![1]);
    if (steps === c.totalSteps) {
      complete++;
      // state.epoch after the last step is num_train_epochs, whatever was logged last
      assert.equal(final, epochs, `seed ${seed}: final dict epoch`);
      assert.equal(block, epochs, `seed ${seed}: metrics block epoch`);
      assert.match(p.text, /^\| Run complete: /m, `seed ${seed}: every step ran`);
    } else {
      assert.ok(final < epochs, `seed ${seed}: stopped early at epoch ${final}`);
      assert.match(p.text, /^\| Run stopped early: /m);
    }
    // validation takes a little more or less time each pass
    const runtimes = [...p.text.matchAll(/'eval_runtime': (\d+\.\d+)/g)].map((m) => m[1]);
    if (runtimes.length >= 3) assert.ok(new Set(runtimes).size > 1, "eval_runtime varies");
  }
  assert.ok(complete >= 1, "a complete run among the seeds");
});

Deno.test("HfDialect export: save_pretrained writes the configuration before the weights", async () => {
  for (const seed of [4, 5]) {
    const p = await play(() => new HfDialect(), { framework: "hf", kind: "finetune" }, seed, {
      wrap: false,
    });
    const dir = p.cfg.site.exportDir;
    const after = p.text.slice(p.text.indexOf(`Saving model checkpoint to ${dir}\n`));
    const at = (s: string) => after.indexOf(s);
    const weights = Math.min(
      ...[`${dir}/model.safetensors`, `${dir}/model-00001-of-`, "checkpoint shards"]
        .map(at).filter((i) => i >= 0),
    );
    assert.ok(at(`Configuration saved in ${dir}/config.json`) > 0);
    assert.ok(at(`${dir}/config.json`) < at(`${dir}/generation_config.json`));
    assert.ok(at(`${dir}/generation_config.json`) < weights, `seed ${seed}: configs first`);
    assert.equal(after.split(`${dir}/config.json`).length, 2, "config.json once");
  }
});
