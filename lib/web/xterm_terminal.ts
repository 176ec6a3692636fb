/**
 * The browser's Terminal: xterm.js (created with `convertEol`, so "\n" starts a new line). It
 * is always live (cursor moves, redrawn bars) and coloured unless `?no-color`. Its size is the
 * xterm's, which the page fits to the window, unless `?width=N` fixes the columns.
 */
import { clampColumns, type Terminal } from "../term/terminal.ts";

/** What this module uses of xterm.js's Terminal. */
export interface XtermLike {
  write(data: string): void;
  readonly cols: number;
  readonly rows: number;
}

export class XtermTerminal implements Terminal {
  readonly live = true;
  /** Colour and attributes (off with `?no-color`). */
  color = true;
  /** Fixed columns (`?width=N`); null: the xterm's. */
  width: number | null = null;
  readonly #xterm: XtermLike;

  constructor(xterm: XtermLike) {
    this.#xterm = xterm;
  }

  get columns(): number {
    return clampColumns(this.width ?? this.#xterm.cols);
  }

  get rows(): number {
    return Math.max(2, this.#xterm.rows);
  }

  write(s: string): void {
    this.#xterm.write(s);
  }
}
