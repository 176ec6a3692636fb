/** Decode speed: bandwidth-bound for large models, dispatch-bound for small ones. */
import assert from "node:assert/strict";
import { GPUS, MODELS } from "../../lib/data.ts";
import { decodeSeconds, prefillSeconds, weightBytes } from "../../lib/engine/inference.ts";

const gpu = (id: string) => GPUS.find((g) => g.id === id)!;
const model = (id: string) => MODELS.find((m) => m.id === id)!.arch;

Deno.test("decodeSeconds(): weights over bandwidth (÷ TP) plus eager dispatch; small models dispatch-bound", () => {
  const big = model("llama-3.1-70b"), small = model("gpt2");
  const h100 = gpu("h100-sxm");
  const t1 = decodeSeconds(big, h100, "bf16", 1), t8 = decodeSeconds(big, h100, "bf16", 8);
  const memory = weightBytes(big, "bf16") / (h100.memBandwidthGBps * 1e9 * 0.8);
  assert.ok(Math.abs(t1 - t8 - memory * (1 - 1 / 8)) < 1e-12, "TP divides the memory term only");
  assert.ok(memory / t1 > 0.75, "a 70B model is mostly bandwidth-bound");
  const g = decodeSeconds(small, gpu("a30"), "bf16");
  const gMemory = weightBytes(small, "bf16") / (gpu("a30").memBandwidthGBps * 1e9 * 0.8);
  assert.ok(gMemory / g < 0.25, "GPT-2 small is dispatch-bound in eager PyTorch");
  assert.ok(1 / g > 150 && 1 / g < 600, `${1 / g} tokens/s`);
  assert.ok(decodeSeconds(big, gpu("a100-80gb"), "bf16", 8) > t8, "less bandwidth, slower");
  assert.ok(prefillSeconds(big, h100, "bf16", 512, 8) > prefillSeconds(big, h100, "bf16", 8, 8));
});
