/**
 * A real word-level n-gram language model: counts of 1- to 4-grams over a corpus, interpolated
 * absolute discounting (each order keeps its discounted counts and hands the freed mass to the
 * order below; unseen contexts back off), and a sampler with the knobs of real inference tools
 * (repetition penalty, temperature, top-k, top-p, in Hugging Face's order). Pure.
 */
import type { Rng } from "../core/rng.ts";

export const MAX_ORDER = 4;
/** Absolute discount (Ney et al. 1994: D ≈ n1 / (n1 + 2·n2), about 0.75 for English words). */
const DISCOUNT = 0.75;

/** Words (with inner apostrophes and hyphens), numbers, and each punctuation mark. */
const TOKEN = /[\p{L}\p{M}]+(?:['’\-][\p{L}\p{M}]+)*|\d+(?:[.,]\d+)*|[^\s\p{L}\p{M}\d]/gu;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

const NO_SPACE_BEFORE = new Set([".", ",", ";", ":", "!", "?", ")", "]", "”", "’", "—", "'"]);
const NO_SPACE_AFTER = new Set(["(", "[", "“", "‘", "—"]);

/** Tokens back to text the way they would be typeset. */
export function detokenize(tokens: readonly string[], after = ""): string {
  let out = "";
  let prev = after;
  for (const t of tokens) {
    const glue = prev === "" || NO_SPACE_BEFORE.has(t) || NO_SPACE_AFTER.has(prev);
    out += (glue ? "" : " ") + t;
    prev = t;
  }
  return out;
}

/**
 * Contexts of one length, in sorted arrays: built by sorting keys rather than hashing them
 * (a few typed-array sorts over a 250k-word corpus instead of a million Map operations).
 */
interface OrderTable {
  /** Sorted distinct keys (shorter context id × V + last word); a context's id is its index. */
  keys: Float64Array;
  /** Context id → total count and the range of its continuations in `words`/`counts`. */
  total: Int32Array;
  start: Int32Array;
  words: Int32Array;
  counts: Int32Array;
}

/** Index of `x` in the sorted array, or -1. */
function find(sorted: Float64Array, x: number): number {
  let lo = 0, hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v < x) lo = mid + 1;
    else if (v > x) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/** The distinct values of a sorted array. */
function distinct(sorted: Float64Array): Float64Array<ArrayBuffer> {
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i]!;
  }
  return Float64Array.from(sorted.subarray(0, n));
}

export class NgramModel {
  readonly vocab: string[] = [];
  readonly index = new Map<string, number>();
  /** Smoothed unigram probabilities (add-½). */
  readonly unigram: Float64Array;
  /** tables[k − 1]: contexts of k words (k = 1 … MAX_ORDER − 1). */
  readonly #tables: OrderTable[] = [];
  readonly tokens: number;

  constructor(text: string) {
    const words = tokenize(text);
    const ids = new Int32Array(words.length);
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string;
      let id = this.index.get(w);
      if (id === undefined) {
        id = this.vocab.length;
        this.vocab.push(w);
        this.index.set(w, id);
      }
      ids[i] = id;
    }
    const N = ids.length;
    this.tokens = N;
    const V = this.vocab.length;
    const uni = new Float64Array(V);
    for (const id of ids) uni[id]! += 1;
    for (let w = 0; w < V; w++) uni[w] = (uni[w]! + 0.5) / (N + 0.5 * V);
    this.unigram = uni;
    // prev[i]: id of the context of length k − 1 that ends just before position i (−1: none).
    // The contexts of length k are the distinct k-grams, so each order's sorted n-grams are the
    // next order's context keys: one sort per order.
    let prev = new Float64Array(N); // length 0: the empty context, id 0
    let keys: Float64Array<ArrayBuffer> = Float64Array.from({ length: V }, (_, w) => w); // 1-word contexts: 0 × V + w
    for (let k = 1; k < MAX_ORDER; k++) {
      const ctx = new Float64Array(N).fill(-1);
      const grams = new Float64Array(N);
      let g = 0;
      for (let i = k; i < N; i++) {
        if (prev[i - 1]! < 0) continue;
        ctx[i] = find(keys, prev[i - 1]! * V + ids[i - 1]!);
        grams[g++] = ctx[i]! * V + ids[i]!;
      }
      const sorted = grams.subarray(0, g).sort();
      const total = new Int32Array(keys.length);
      const start = new Int32Array(keys.length + 1);
      const wordsOf: number[] = [], countsOf: number[] = [];
      for (let i = 0; i < sorted.length;) {
        let j = i;
        while (j < sorted.length && sorted[j] === sorted[i]) j++;
        const c = Math.floor(sorted[i]! / V);
        wordsOf.push(sorted[i]! - c * V);
        countsOf.push(j - i);
        total[c]! += j - i;
        start[c + 1] = wordsOf.length;
        i = j;
      }
      for (let c = 1; c <= keys.length; c++) start[c] = Math.max(start[c]!, start[c - 1]!);
      this.#tables.push({
        keys,
        total,
        start,
        words: Int32Array.from(wordsOf),
        counts: Int32Array.from(countsOf),
      });
      prev = ctx;
      keys = distinct(sorted);
    }
  }

  get size(): number {
    return this.vocab.length;
  }

  /** Word ids of a text; words the corpus never saw are dropped (the context backs off). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const w of tokenize(text)) {
      const id = this.index.get(w) ?? this.index.get(w.toLowerCase());
      if (id !== undefined) out.push(id);
    }
    return out;
  }

  /** The context id of the last k words of `history`, or -1 if the corpus never had it. */
  #context(history: readonly number[], k: number): number {
    if (history.length < k) return -1;
    let c = 0;
    const V = this.vocab.length;
    for (let j = 1; j <= k; j++) {
      c = find(this.#tables[j - 1]!.keys, c * V + history[history.length - 1 - k + j]!);
      if (c < 0) return -1;
    }
    return c;
  }

  /**
   * P(w | history) for every word, using contexts of at most `order − 1` words: interpolated
   * absolute discounting, backing off where a context was never seen.
   */
  distribution(history: readonly number[], order = MAX_ORDER): Float64Array {
    const p = Float64Array.from(this.unigram);
    for (let k = 1; k < Math.min(order, MAX_ORDER); k++) {
      const c = this.#context(history, k);
      if (c < 0) break; // a longer context cannot have been seen either
      const t = this.#tables[k - 1]!;
      const total = t.total[c]!;
      const from = t.start[c]!, to = t.start[c + 1]!;
      const lambda = (DISCOUNT * (to - from)) / total;
      for (let w = 0; w < p.length; w++) p[w]! *= lambda;
      for (let i = from; i < to; i++) p[t.words[i]!]! += (t.counts[i]! - DISCOUNT) / total;
    }
    return p;
  }

  /** Natural-log probability of `ids[i]` after `ids[0..i)`, under the model of that order. */
  logProb(ids: readonly number[], i: number, order = MAX_ORDER): number {
    return Math.log(this.distribution(ids.slice(Math.max(0, i - order + 1), i), order)[ids[i]!]!);
  }
}

export interface SamplingOptions {
  /** 0 = greedy (argmax). */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** 1 = off; > 1 makes words already in the text less likely (CTRL, Keskar et al. 2019). */
  repetitionPenalty: number;
}

/** Repetition penalty on log-probabilities, as transformers applies it to logits (all < 0). */
export function penalize(p: Float64Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const w of new Set(seen)) p[w] = p[w]! ** penalty;
}

/**
 * Keep the words that come first when sorted by probability (ties by lower id) until `stop`
 * says enough; zero the rest. Sorting the values alone (a native typed-array sort) finds the
 * boundary value; words above it stay, and ties at it are taken by id.
 */
function keepHead(p: Float64Array, stop: (count: number, mass: number) => boolean): void {
  const vals = Float64Array.from(p).sort();
  let count = 0, mass = 0, j = vals.length - 1;
  for (; j >= 0; j--) {
    count++;
    mass += vals[j]!;
    if (stop(count, mass)) break;
  }
  const edge = vals[Math.max(0, j)]!;
  let above = 0;
  for (const x of p) if (x > edge) above++;
  let ties = count - above; // how many words valued `edge` the head takes
  for (let i = 0; i < p.length; i++) {
    if (p[i]! > edge) continue;
    if (p[i] === edge && ties > 0) ties--;
    else p[i] = 0;
  }
}

/** Keep the k most likely (ties by lower id); the rest get 0. */
export function topK(p: Float64Array, k: number): void {
  if (k <= 0 || k >= p.length) return;
  keepHead(p, (count) => count >= k);
}

/** Keep the smallest most-likely set whose mass reaches `top` of the total. */
export function topP(p: Float64Array, top: number): void {
  if (top >= 1) return;
  let total = 0;
  for (const x of p) total += x;
  keepHead(p, (_, mass) => mass >= top * total);
}

export function argmax(p: Float64Array): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}

/** One token from `p` (changed in place) with the options, in transformers' order. */
export function sample(
  p: Float64Array,
  seen: readonly number[],
  o: SamplingOptions,
  rng: Rng,
): number {
  penalize(p, seen, o.repetitionPenalty);
  if (o.temperature === 0) return argmax(p);
  if (o.temperature !== 1) {
    const inv = 1 / o.temperature;
    // scale before the power so tiny probabilities do not underflow to 0 all at once
    const top = p[argmax(p)]!;
    for (let i = 0; i < p.length; i++) p[i] = (p[i]! / top) ** inv;
  }
  topK(p, o.topK);
  topP(p, o.topP);
  let total = 0;
  for (const x of p) total += x;
  let r = rng.next() * total;
  for (let i = 0; i < p.length; i++) {
    r -= p[i]!;
    if (r < 0) return i;
  }
  return argmax(p);
}
