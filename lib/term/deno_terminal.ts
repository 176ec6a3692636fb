/**
 * The Deno terminal: stdout, buffered and flushed before every pause (and whenever 64 KiB pile
 * up), so `--instant` writes in large blocks while the real-time show appears line by line.
 * Needs no permission: isTerminal, consoleSize and noColor are free.
 */
import { clampColumns, type Terminal } from "./terminal.ts";

const FLUSH_AT = 1 << 16;

export interface DenoTerminalOptions {
  /** Fixed width (`--width`); otherwise the TTY's, or 80 off a TTY. */
  width?: number;
  /** Colour forced off (`--no-color`). */
  noColor?: boolean;
  /** Called once when the reader went away (`| head`). */
  onBrokenPipe?: () => void;
}

export class DenoTerminal implements Terminal {
  readonly live: boolean;
  readonly color: boolean;
  #columns: number;
  #rows: number;
  readonly #fixedWidth: number | undefined;
  #buf: string[] = [];
  #size = 0;
  #broken = false;
  readonly #enc = new TextEncoder();
  readonly #onBrokenPipe: (() => void) | undefined;

  constructor(opts: DenoTerminalOptions = {}) {
    this.live = Deno.stdout.isTerminal();
    this.color = this.live && !Deno.noColor && !opts.noColor;
    this.#fixedWidth = opts.width;
    this.#onBrokenPipe = opts.onBrokenPipe;
    this.#columns = 80;
    this.#rows = 24;
    this.refreshSize();
  }

  /** Re-read the window size (on SIGWINCH). */
  refreshSize(): void {
    let cols = 80, rows = 24;
    if (this.live) {
      try {
        const size = Deno.consoleSize();
        if (size.columns > 0) cols = size.columns;
        if (size.rows > 0) rows = size.rows;
      } catch {
        // not a console after all: keep the defaults
      }
    }
    this.#columns = clampColumns(this.#fixedWidth ?? cols);
    this.#rows = Math.max(2, rows);
  }

  get columns(): number {
    return this.#columns;
  }

  get rows(): number {
    return this.#rows;
  }

  get broken(): boolean {
    return this.#broken;
  }

  write(s: string): void {
    if (this.#broken) return;
    this.#buf.push(s);
    this.#size += s.length;
    if (this.#size >= FLUSH_AT) this.flush();
  }

  /** Write out everything buffered. */
  flush(): void {
    if (this.#buf.length === 0 || this.#broken) return;
    const data = this.#enc.encode(this.#buf.join(""));
    this.#buf = [];
    this.#size = 0;
    try {
      let off = 0;
      while (off < data.length) off += Deno.stdout.writeSync(data.subarray(off));
    } catch (e) {
      if (e instanceof Deno.errors.BrokenPipe) {
        this.#broken = true;
        this.#onBrokenPipe?.();
        return;
      }
      throw e;
    }
  }
}
