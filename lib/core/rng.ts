/**
 * Seeded random numbers. Every stream is a xoroshiro128+ generator from pure-rand; `fork(label)`
 * derives an independent stream from this stream's seed and a label, so adding a draw in one
 * part of the simulation never shifts the numbers of another (text and JSONL of one seed describe
 * the same run because presentation never draws from the engine's streams).
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";

type Gen = ReturnType<typeof xoroshiro128plus>;

const TWO_32 = 4294967296;

/** 32-bit FNV-1a over a string, mixed with a number: stable across platforms. */
export function hash32(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  h = Math.imul(h ^ (Math.floor(seed / TWO_32) >>> 0), 0x01000193) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  readonly seed: number;
  #gen: Gen;
  #spare = NaN;

  constructor(seed: number, state?: readonly number[]) {
    this.seed = seed >>> 0;
    this.#gen = state ? xoroshiro128plusFromState(state) : xoroshiro128plus(this.seed);
    if (!state) { for (let i = 0; i < 8; i++) this.#gen.next(); // leave the weak first outputs
     }
  }

  /** An independent stream, the same for the same (seed, label) whatever this stream drew. */
  fork(label: string): Rng {
    return new Rng(hash32(this.seed, label));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return (this.#gen.next() >>> 0) / TWO_32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal (Marsaglia's polar method, caching the second value; no trigonometry). */
  normal(): number {
    if (!Number.isNaN(this.#spare)) {
      const s = this.#spare;
      this.#spare = NaN;
      return s;
    }
    let u: number, v: number, q: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      q = u * u + v * v;
    } while (q >= 1 || q === 0);
    const f = Math.sqrt((-2 * Math.log(q)) / q);
    this.#spare = v * f;
    return u * f;
  }

  /** Log-uniform in [lo, hi). */
  logUniform(lo: number, hi: number): number {
    return Math.exp(this.uniform(Math.log(lo), Math.log(hi)));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Exponential waiting time with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Cannot pick from an empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Pick with weights (need not sum to 1). */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let sum = 0;
    for (const w of weights) sum += w;
    let x = this.next() * sum;
    for (let i = 0; i < items.length; i++) {
      x -= weights[i] ?? 0;
      if (x < 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }

  /** Serializable state: resume restores the exact stream. */
  state(): { seed: number; gen: number[]; spare: number | null } {
    return {
      seed: this.seed,
      gen: [...this.#gen.getState()],
      spare: Number.isNaN(this.#spare) ? null : this.#spare,
    };
  }

  static fromState(s: { seed: number; gen: readonly number[]; spare: number | null }): Rng {
    const r = new Rng(s.seed, s.gen);
    if (s.spare !== null) r.#spare = s.spare;
    return r;
  }
}

/** Deterministic noise in [-1, 1] from integer coordinates; no stream is consumed. */
export function noise(seed: number, a: number, b = 0): number {
  let h = (seed ^ Math.imul(a | 0, 0x9e3779b1) ^ Math.imul(b | 0, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 2147483648 - 1;
}

/** Smooth deterministic noise in [-1, 1] along a real axis (smoothstep-interpolated lattice). */
export function smoothNoise(seed: number, x: number, channel = 0): number {
  const i = Math.floor(x);
  const f = x - i;
  const w = f * f * (3 - 2 * f);
  return noise(seed, i, channel) * (1 - w) + noise(seed, i + 1, channel) * w;
}
