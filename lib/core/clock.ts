/**
 * Time. `now()` is simulated wall time in epoch milliseconds; `sleep(ms)` advances it. Sleep is
 * the one place where `--speed` applies: at speed 1 the simulated time is the wall time, at
 * speed s a simulated second lasts 1/s real seconds, and a virtual clock (tests, `--instant`)
 * advances without waiting. Every sleep is interruptible: once the signal aborts, the pending
 * and every later sleep throw `Interrupted`, so a phase stops at its next pause without
 * checking flags everywhere.
 */

export interface Clock {
  /** Simulated epoch milliseconds. */
  now(): number;
  /** Advance simulated time by `ms`; throws Interrupted once the run is aborted. */
  sleep(ms: number): Promise<void>;
}

const RESOLVED: Promise<void> = Promise.resolve();

export class Interrupted extends Error {
  constructor() {
    super("Interrupted");
    this.name = "Interrupted";
  }
}

/** Advances instantly. Yields to the event loop now and then so signals and timers still fire. */
export class VirtualClock implements Clock {
  #now: number;
  #signal: AbortSignal | undefined;
  #sleeps = 0;
  #lastYield: number;
  readonly #wallNow: () => number;
  readonly #beforeYield: (() => void) | undefined;

  constructor(
    startMs: number,
    opts: { signal?: AbortSignal; wallNow?: () => number; beforeYield?: () => void } = {},
  ) {
    this.#now = startMs;
    this.#signal = opts.signal;
    this.#wallNow = opts.wallNow ?? (() => 0);
    this.#lastYield = this.#wallNow();
    this.#beforeYield = opts.beforeYield;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    if (this.#signal?.aborted) return Promise.reject(new Interrupted());
    this.#now += Math.max(0, ms);
    // Every 4096 pauses, if 20 ms of real time went by, let timers and signal handlers run.
    if ((++this.#sleeps & 4095) === 0) {
      const wall = this.#wallNow();
      if (wall - this.#lastYield >= 20) {
        this.#lastYield = wall;
        this.#beforeYield?.();
        return new Promise<void>((resolve, reject) =>
          setTimeout(() => (this.#signal?.aborted ? reject(new Interrupted()) : resolve()), 0)
        );
      }
    }
    return RESOLVED; // no allocation on the hot path of --instant
  }
}

/**
 * Real time scaled by `speed`. Sleeps are scheduled against an accumulated due time, so the
 * simulated clock never drifts from the sum of sleeps by more than one timer tick.
 */
export class RealClock implements Clock {
  readonly #speed: number;
  readonly #simStart: number;
  readonly #realStart: number;
  readonly #realNow: () => number;
  readonly #signal: AbortSignal | undefined;
  readonly #beforeSleep: (() => void) | undefined;
  #due: number;

  constructor(
    opts: {
      speed: number;
      startMs: number;
      realNow: () => number;
      signal?: AbortSignal;
      beforeSleep?: () => void;
    },
  ) {
    this.#speed = opts.speed;
    this.#simStart = opts.startMs;
    this.#realNow = opts.realNow;
    this.#realStart = opts.realNow();
    this.#signal = opts.signal;
    this.#beforeSleep = opts.beforeSleep;
    this.#due = opts.startMs;
  }

  now(): number {
    return this.#simStart + (this.#realNow() - this.#realStart) * this.#speed;
  }

  sleep(ms: number): Promise<void> {
    const signal = this.#signal;
    if (signal?.aborted) return Promise.reject(new Interrupted());
    this.#beforeSleep?.();
    // Catch up on up to 200 ms of lateness (timer slack, rendering), never more: after a
    // suspended process the show resumes at its pace instead of bursting.
    const now = this.now();
    this.#due = Math.max(this.#due, now - 200) + Math.max(0, ms);
    const wait = Math.max(0, this.#due - now) / this.#speed;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Interrupted());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, wait);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
