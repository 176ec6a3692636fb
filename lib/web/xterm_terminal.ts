/**
 * The browser's Terminal: xterm.js (created with `convertEol`, so "\n" starts a new line). It
 * is always live (cursor moves, redrawn bars) and coloured unless `?no-color`. Its columns are
 * the xterm's, which the page fits to the window; `?width=N` narrows them, never past the
 * xterm's own (wider lines would wrap and break the redrawn bars).
 *
 * xterm.js parses writes asynchronously and throws away what is queued past ~50 MB, so the
 * terminal counts what it has written and not yet parsed: `drain()` gives the show a promise
 * to wait on while that backlog is over a megabyte (an `--instant` show writes far faster than
 * a browser draws).
 */
import { clampColumns, type Terminal } from "../term/terminal.ts";

/** What this module uses of xterm.js's Terminal. */
export interface XtermLike {
  write(data: string, callback?: () => void): void;
  readonly cols: number;
  readonly rows: number;
}

/** Characters written and not yet parsed above which the show waits, and below which it goes on. */
export const BACKLOG_HIGH = 1 << 20;
export const BACKLOG_LOW = 1 << 16;

export class XtermTerminal implements Terminal {
  readonly live = true;
  /** Colour and attributes (off with `?no-color`). */
  color = true;
  /** Fixed columns (`?width=N`); null: the xterm's. */
  width: number | null = null;
  readonly #xterm: XtermLike;
  readonly #high: number;
  readonly #low: number;
  #backlog = 0;
  #waiting: { resolve: () => void; promise: Promise<void> } | null = null;

  constructor(xterm: XtermLike, marks: { high?: number; low?: number } = {}) {
    this.#xterm = xterm;
    this.#high = marks.high ?? BACKLOG_HIGH;
    this.#low = marks.low ?? BACKLOG_LOW;
  }

  get columns(): number {
    const cols = this.#xterm.cols;
    return clampColumns(this.width === null ? cols : Math.min(this.width, cols));
  }

  get rows(): number {
    return Math.max(2, this.#xterm.rows);
  }

  /** Characters written that xterm.js has not parsed yet. */
  get backlog(): number {
    return this.#backlog;
  }

  write(s: string): void {
    this.#backlog += s.length;
    this.#xterm.write(s, () => {
      this.#backlog -= s.length;
      if (this.#waiting && this.#backlog <= this.#low) {
        this.#waiting.resolve();
        this.#waiting = null;
      }
    });
  }

  /** A promise to wait on while the backlog is over the high mark, else null. */
  drain(): Promise<void> | null {
    if (this.#backlog <= this.#high) return null;
    if (!this.#waiting) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#waiting = { resolve, promise };
    }
    return this.#waiting.promise;
  }
}
