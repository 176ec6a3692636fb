/**
 * The PyTorch Lightning dialect: a golden excerpt of one fine-tune, and a parser for the metrics
 * callback's per-interval line that must find every one and recover the engine's numbers.
 */
import assert from "node:assert/strict";
import { GPUS } from "../../lib/data.ts";
import { bf16Round } from "../../lib/dialects/hf.ts";
import { humanCount, LightningDialect, tqdmNum } from "../../lib/dialects/lightning.ts";
import type { Precision } from "../../lib/engine/types.ts";
import { assertGolden } from "../_golden.ts";
import { near, play, type StepClock, watchClock } from "./_harness.ts";

const A100 = GPUS.find((g) => g.id === "a100-80gb");
if (!A100) throw new Error("a100-80gb missing from the catalog");

/** First lines, around some landmarks, and the end of a log. */
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

const METRICS =
  /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\]\[src\.callbacks\.metrics\]\[INFO\] - \[rank: 0\] epoch (\d+\.\d\d) \| step (\d+)\/(\d+) \| loss (\d+\.\d{4}) \| lr ([0-9.e+-]+) \| grad_norm (inf|[0-9.e+-]+) \| ([\d,]+) tok\/s\/gpu$/gm;

Deno.test("LightningDialect golden excerpt of a fine-tune (seed 5)", async () => {
  const { text } = await play(
    () => new LightningDialect(),
    { framework: "lightning", kind: "finetune" },
    5,
    { wrap: false },
  );
  const gold = excerpt(text, [
    /^Validation DataLoader 0: /,
    /saving model to '/,
    /^Epoch 0: 100%/,
  ]);
  assert.ok(gold.length < 40_000, `golden excerpt is ${gold.length} bytes`);
  await assertGolden("dialect-lightning.txt", gold);
});

const CASES: { seed: number; precision: Precision }[] = [
  { seed: 5, precision: "bf16" },
  { seed: 3, precision: "bf16" },
  { seed: 2, precision: "fp16" },
  { seed: 6, precision: "fp16" },
];

for (const { seed, precision } of CASES) {
  Deno.test(`LightningDialect metric lines parse back to the engine's numbers (seed ${seed}, ${precision} on A100)`, async () => {
    const p = await play(
      () => new LightningDialect(),
      { framework: "lightning", kind: "finetune", precision, gpu: A100 },
      seed,
      { wrap: false },
    );
    assert.equal(p.cfg.precision, precision);
    const found = [...p.text.matchAll(METRICS)];
    assert.equal(found.length, p.windows.length, "one metrics line per log interval");
    assert.ok(found.length > 10);
    found.forEach((m, i) => {
      const w = p.windows[i];
      assert.ok(w);
      const r = w.last;
      const [, epoch, step, total, loss, lr, grad] = m as unknown as string[];
      assert.equal(Number(step), r.step);
      assert.equal(Number(total), p.cfg.totalSteps);
      assert.ok(near(Number(loss), w.meanLoss, 4), `loss ${loss} vs ${w.meanLoss}`);
      assert.equal(Number(lr), r.lr, "lr round-trips exactly");
      if (r.skipped) assert.equal(grad, "inf", "an overflowed fp16 step has an inf norm");
      else {
        // bf16-true keeps bf16 gradients; 16-mixed keeps fp32 master gradients
        const want = precision === "bf16" ? bf16Round(r.gradNorm) : Math.fround(r.gradNorm);
        assert.equal(Number(grad), want, `grad_norm ${grad}`);
      }
      assert.ok(near(Number(epoch), r.epochFloat, 2), `epoch ${epoch} vs ${r.epochFloat}`);
    });
    // Lightning's own lines
    const c = p.cfg;
    assert.match(p.text, /^GPU available: True \(cuda\), used: True$/m);
    assert.match(p.text, /^TPU available: False, using: 0 TPU cores$/m);
    if (c.gpus > 1) {
      assert.match(
        p.text,
        new RegExp(
          `^All distributed processes registered\\. Starting with ${c.gpus} processes$`,
          "m",
        ),
      );
      const inits = p.text.match(
        /^Initializing distributed: GLOBAL_RANK: \d+, MEMBER: \d+\/\d+$/gm,
      );
      assert.equal(inits?.length, c.gpusPerNode);
    }
    assert.match(p.text, /^ {2}\| Name {4}\| Type +\| Params \| Mode $/m);
    assert.match(p.text, /^[\d,.]+ *Total estimated model params size \(MB\)$/m);
    // epoch bars: one finished bar per epoch, always it/s, batches = steps × accumulation
    const bars = [...p.text.matchAll(
      /^Epoch (\d+): 100%\|█{10}\| (\d+)\/(\d+) \[[\d:]+<00:00, +[\d.]+it\/s, v_num=\d+, train_loss=[^,\]]+(, val_loss=[^\]]+)?\]$/gm,
    )];
    const ga = c.globalBatch / (c.layout.dp * c.layout.microBatch);
    const last = p.windows[p.windows.length - 1]?.last.step ?? 0;
    assert.equal(bars.length, Math.floor(last / (c.totalSteps / c.epochs)));
    for (const b of bars) assert.equal(Number(b[2]), (c.totalSteps / c.epochs) * ga);
    assert.doesNotMatch(
      p.text,
      /^(Epoch \d+|Validation DataLoader 0|Sanity Checking DataLoader 0): .*s\/it/m,
      "Lightning's bars never switch to s/it",
    );
    assert.match(p.text, /^Validation DataLoader 0: 100%\|█{10}\| \d+\/\d+ /m);
    assert.doesNotMatch(p.text, /^\S.*: +0%\|/m, "no intermediate frames in a log file");
  });
}

Deno.test("humanCount() is Lightning's get_human_readable_count", () => {
  assert.equal(humanCount(0), "0  ");
  assert.equal(humanCount(123), "123  ");
  assert.equal(humanCount(1234), "1.2 K");
  assert.equal(humanCount(2e6), "2.0 M");
  assert.equal(humanCount(124439808), "124 M");
  assert.equal(humanCount(8030261248), "8.0 B");
  assert.equal(humanCount(4e14), "400 T");
  assert.equal(humanCount(5e15), "5,000 T");
});

Deno.test("tqdmNum() is tqdm's format_num", () => {
  assert.equal(tqdmNum(2.3456), "2.35");
  assert.equal(tqdmNum(0.5), "0.5");
  assert.equal(tqdmNum(1.0), "1");
  assert.equal(tqdmNum(7950.123), "7.95e+3");
  assert.equal(tqdmNum(0.0123456), "0.0123");
  assert.equal(tqdmNum(1e-5), "1e-5");
});

Deno.test("LightningDialect windows stop on the batch that crosses max_time", async () => {
  let windows = 0;
  for (let seed = 1; seed <= 30 && windows < 4; seed++) {
    const clock: StepClock = { steps: [], startMs: 0, windowEndMs: 0 };
    let timerStart = 0;
    const p = await play(
      () => {
        const d = watchClock(new LightningDialect(), clock);
        const trainStart = d.trainStart.bind(d);
        // the Timer callback starts with training, after the sanity check (the last line that
        // trainStart prints with the clock of its moment)
        d.trainStart = (ctx) =>
          trainStart(ctx).map((b) => {
            const text = b.text;
            if (typeof text !== "function") return b;
            return { ...b, text: () => (timerStart = ctx.clock.now(), text()) };
          });
        return d;
      },
      { framework: "lightning", kind: "pretrain" },
      seed,
    );
    const m = /\+trainer\.max_time=(\d\d):(\d\d):(\d\d):(\d\d)/.exec(p.text);
    if (p.cfg.endStep >= p.cfg.totalSteps) {
      assert.equal(m, null, "a run to its last step has no time limit");
      continue;
    }
    windows++;
    assert.ok(m, "a window has a time limit");
    const [d, h, min, s] = m.slice(1).map(Number) as [number, number, number, number];
    const limitMs = (((d * 24 + h) * 60 + min) * 60 + s) * 1000;
    const [lastStep, lastEnd] = clock.steps.at(-1)!;
    const [, beforeEnd] = clock.steps.at(-2)!;
    assert.equal(lastStep, p.cfg.endStep);
    // `time_elapsed >= max_time` after each batch, from on_train_start
    assert.ok(beforeEnd - timerStart < limitMs, `seed ${seed}: not reached before the last step`);
    assert.ok(lastEnd - timerStart >= limitMs, `seed ${seed}: reached by the last step`);
    const elapsed = /^Time limit reached\. Elapsed time is (\d+):(\d\d):(\d\d)\. /m.exec(p.text);
    assert.ok(elapsed, "the Timer's message");
    const [eh, em, es] = elapsed.slice(1).map(Number) as [number, number, number];
    assert.equal(eh * 3600 + em * 60 + es, Math.floor((lastEnd - timerStart) / 1000));
  }
  assert.ok(windows >= 2, "several windows");
});

Deno.test("LightningDialect export: save_pretrained writes the configuration before the weights", async () => {
  const p = await play(
    () => new LightningDialect(),
    { framework: "lightning", kind: "finetune" },
    5,
  );
  const dir = p.cfg.site.exportDir;
  const after = p.text.slice(p.text.indexOf("Converting "));
  const at = (s: string) => after.indexOf(s);
  const weights = Math.min(
    ...[`${dir}/model.safetensors`, `${dir}/model-00001-of-`].map(at).filter((i) => i >= 0),
  );
  assert.ok(at(`Configuration saved in ${dir}/config.json`) > 0);
  assert.ok(at(`${dir}/config.json`) < at(`${dir}/generation_config.json`));
  assert.ok(at(`${dir}/generation_config.json`) < weights, "configs first");
  assert.equal(after.split(`${dir}/config.json`).length, 2, "config.json once");
});
