/**
 * An asciicast v2 recording of everything a terminal receives
 * (https://docs.asciinema.org/manual/asciicast/v2/): a header line, then one `[time, "o",
 * data]` line per output, each "\n" written as the "\r\n" a terminal gets from its tty (so
 * players start lines at column 1). Times come from the show's clock, in seconds since the
 * start: the simulated time, so an `--instant` show records a cast that plays at real-time
 * pace. Writes at the same clock time are merged into one event; a change of the terminal's
 * size becomes an `"r"` event. Pure: the lines go to a sink (a file in the shell, an array in
 * tests).
 */
import type { Terminal } from "./terminal.ts";

export interface CastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix time of the start, in seconds. */
  timestamp?: number;
  title?: string;
  env?: Record<string, string>;
}

export type CastEvent = [number, "o" | "r", string];

/** Seconds rounded to microseconds, as asciinema writes them. */
function seconds(ms: number): number {
  return Math.round(ms * 1000) / 1e6;
}

export class CastRecorder implements Terminal {
  readonly #inner: Terminal;
  readonly #now: () => number;
  readonly #sink: (line: string) => void;
  readonly #start: number;
  #time = 0;
  #pending = "";
  #width: number;
  #height: number;

  constructor(
    inner: Terminal,
    opts: {
      /** The clock's time, epoch ms. */
      now: () => number;
      /** Receives each line of the file, "\n" included. */
      sink: (line: string) => void;
      title?: string;
    },
  ) {
    this.#inner = inner;
    this.#now = opts.now;
    this.#sink = opts.sink;
    this.#start = opts.now();
    this.#width = inner.columns;
    this.#height = inner.rows;
    const header: CastHeader = {
      version: 2,
      width: this.#width,
      height: this.#height,
      timestamp: Math.floor(this.#start / 1000),
      ...(opts.title !== undefined ? { title: opts.title } : {}),
    };
    this.#sink(JSON.stringify(header) + "\n");
  }

  get columns(): number {
    return this.#inner.columns;
  }

  get rows(): number {
    return this.#inner.rows;
  }

  get color(): boolean {
    return this.#inner.color;
  }

  get live(): boolean {
    return this.#inner.live;
  }

  write(s: string): void {
    this.#inner.write(s);
    if (s.length === 0) return;
    const t = Math.max(this.#time, seconds(this.#now() - this.#start));
    const w = this.#inner.columns, h = this.#inner.rows;
    if (w !== this.#width || h !== this.#height) {
      this.flush();
      this.#width = w;
      this.#height = h;
      this.#time = t;
      this.#emit([t, "r", `${w}x${h}`]);
    }
    if (t !== this.#time) {
      this.flush();
      this.#time = t;
    }
    this.#pending += s.includes("\n") ? s.replaceAll("\n", "\r\n") : s;
  }

  /** Write out the output event being gathered (at the end, and before long pauses). */
  flush(): void {
    if (this.#pending === "") return;
    this.#emit([this.#time, "o", this.#pending]);
    this.#pending = "";
  }

  #emit(e: CastEvent): void {
    this.#sink(JSON.stringify(e) + "\n");
  }
}

/** A recording read back: header and events; throws SyntaxError where it breaks the format. */
export function parseCast(text: string): { header: CastHeader; events: CastEvent[] } {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const header = JSON.parse(lines[0] ?? "") as CastHeader;
  if (
    header === null || typeof header !== "object" || header.version !== 2 ||
    !Number.isInteger(header.width) || header.width <= 0 ||
    !Number.isInteger(header.height) || header.height <= 0 ||
    (header.timestamp !== undefined && !Number.isInteger(header.timestamp))
  ) {
    throw new SyntaxError(`line 1: not an asciicast v2 header: ${lines[0]}`);
  }
  const events: CastEvent[] = [];
  let last = 0;
  for (let i = 1; i < lines.length; i++) {
    const e = JSON.parse(lines[i] as string) as unknown;
    if (
      !Array.isArray(e) || e.length !== 3 || typeof e[0] !== "number" ||
      !Number.isFinite(e[0]) || e[0] < 0 || !["o", "i", "r", "m"].includes(e[1]) ||
      typeof e[2] !== "string"
    ) {
      throw new SyntaxError(`line ${i + 1}: not an event [time, code, data]: ${lines[i]}`);
    }
    if (e[0] < last) {
      throw new SyntaxError(`line ${i + 1}: time ${e[0]} goes back from ${last}`);
    }
    last = e[0];
    events.push(e as CastEvent);
  }
  return { header, events };
}

/** Everything a recording printed, in order, with the tty's "\r\n" back to "\n". */
export function castOutput(events: readonly CastEvent[]): string {
  let s = "";
  for (const e of events) if (e[1] === "o") s += e[2];
  return s.replaceAll("\r\n", "\n");
}
