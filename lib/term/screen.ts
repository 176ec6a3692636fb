/**
 * Log lines scroll; a live region (bars, GPU grid) stays at the bottom and is redrawn in place.
 * On a TTY only the region lines that changed are rewritten; off a TTY the region is never
 * drawn and only log lines come out, wrapped at the width when one is set. Every line is cut
 * or wrapped to the terminal width.
 */
import {
  CLEAR_DOWN,
  CLEAR_LINE,
  cursorUp,
  stripAnsi,
  truncate,
  visibleWidth,
  wrapLine,
} from "./ansi.ts";
import type { Terminal } from "./terminal.ts";

export class Screen {
  readonly term: Terminal;
  /** Wrap log lines at the width (false: pipe output keeps its long lines). */
  readonly wrap: boolean;
  #region: string[] = [];
  readonly #mirror: ((plain: string) => void) | null;
  readonly #live: boolean;

  constructor(
    term: Terminal,
    opts: {
      wrap?: boolean;
      /** Also receives every logged text, without escape codes and unwrapped (a log file). */
      mirror?: (plain: string) => void;
      /** Draw the live region on a TTY (false: log lines only, e.g. a JSONL stream). */
      live?: boolean;
    } = {},
  ) {
    this.term = term;
    this.wrap = opts.wrap ?? true;
    this.#mirror = opts.mirror ?? null;
    this.#live = opts.live ?? true;
  }

  get color(): boolean {
    return this.term.color;
  }

  get live(): boolean {
    return this.#live && this.term.live;
  }

  get columns(): number {
    return this.term.columns;
  }

  #fit(line: string): string[] {
    const plain = this.term.color ? line : stripAnsi(line);
    return this.wrap ? wrapLine(plain, this.term.columns) : [plain];
  }

  /** Print one or more lines ("\n"-separated) above the live region. */
  log(text: string): void {
    this.#mirror?.(text.includes("\x1b") ? stripAnsi(text) : text);
    let out = "";
    if (!this.wrap && !this.term.color && !text.includes("\x1b")) {
      out = text + "\n"; // the fast path of piped and instant output
    } else {
      for (const line of text.split("\n")) for (const piece of this.#fit(line)) out += piece + "\n";
    }
    if (this.live && this.#region.length > 0) {
      this.term.write(cursorUp(this.#region.length) + CLEAR_DOWN + out + this.#draw(this.#region));
    } else {
      this.term.write(out);
    }
  }

  #draw(lines: readonly string[]): string {
    let s = "";
    for (const l of lines) s += l + "\n";
    return s;
  }

  /** Replace the live region (TTY only; ignored off a TTY). */
  region(lines: readonly string[]): void {
    if (!this.live) return;
    const width = this.term.columns;
    const max = Math.max(1, this.term.rows - 1);
    const next = lines.slice(-max).map((l) => {
      const plain = this.term.color ? l : stripAnsi(l);
      return visibleWidth(plain) > width ? truncate(plain, width) : plain;
    });
    const prev = this.#region;
    if (prev.length === 0 && next.length === 0) return;
    let s = cursorUp(prev.length);
    for (let i = 0; i < next.length; i++) {
      const line = next[i] as string;
      s += i < prev.length && prev[i] === line ? "\n" : CLEAR_LINE + line + "\n";
    }
    if (next.length < prev.length) s += CLEAR_DOWN;
    this.#region = next;
    this.term.write(s);
  }

  /** Erase the live region. */
  clearRegion(): void {
    if (this.#region.length === 0) return;
    this.term.write(cursorUp(this.#region.length) + CLEAR_DOWN);
    this.#region = [];
  }

  /** Leave the region's last frame on screen as ordinary lines. */
  keepRegion(): void {
    this.#region = [];
  }

  /** Lines currently in the live region (tests). */
  get regionLines(): readonly string[] {
    return this.#region;
  }
}
