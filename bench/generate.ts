/**
 * The sampler's own speed: n-gram model build time (a fresh process, cold), and tokens/s of
 * sampling 400 tokens with top-p 0.95 at each model order (warm: after one untimed round).
 * Prints "<build ms> <tok/s order 1> … <tok/s order 4>" on stderr.
 */
import { Rng } from "../lib/core/rng.ts";
import { CORPUS } from "../lib/generate/corpus.ts";
import { MAX_ORDER, NgramModel, sample } from "../lib/generate/ngram.ts";

const t0 = performance.now();
const model = new NgramModel(CORPUS);
const build = performance.now() - t0;

function rate(order: number): number {
  const rng = new Rng(order);
  const history = model.encode("Call me Ishmael.");
  const t = performance.now();
  const n = 400;
  for (let i = 0; i < n; i++) {
    const p = model.distribution(history.slice(-(order - 1) || history.length), order);
    history.push(
      sample(p, history, { temperature: 0.9, topK: 0, topP: 0.95, repetitionPenalty: 1.1 }, rng),
    );
  }
  return n / ((performance.now() - t) / 1000);
}

for (let o = 1; o <= MAX_ORDER; o++) rate(o); // warm up
const rates = Array.from({ length: MAX_ORDER }, (_, i) => rate(i + 1));
Deno.stderr.writeSync(new TextEncoder().encode(`${build} ${rates.join(" ")}\n`));
