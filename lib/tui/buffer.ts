/**
 * A screen buffer for the full-screen monitor: a grid of cells, each one grapheme and a style.
 * Widgets draw into it (pure, clipped at the edges); `renderDiff` (diff.ts) turns two buffers
 * into the escapes that update a terminal.
 *
 * Cells: `ch` is one grapheme of display width 1, a wide grapheme (CJK, emoji) in its left cell
 * followed by "" in its right cell, never anything else. Overwriting either half of a wide
 * grapheme blanks the other half, as terminals do.
 *
 * Styles are a packed bitfield (combine with `|`, e.g. `STYLE.red | STYLE.bold | heat(0.9)`):
 *
 *   bits 0–3   foreground: 0 default, 1 red … 6 cyan, 7 white, 8 gray (see STYLE)
 *   bits 4–7   background: 0 default, 1–8 heat steps from cool (blue) to hot (red), see heat()
 *   bit 8 bold · bit 9 dim · bit 10 underline · bit 11 reverse
 *
 * Without colour (NO_COLOR, pipes) a style renders as nothing except reverse video: NO_COLOR
 * asks for no colour, and reverse is not a colour — it is what keeps a selected row visible.
 */
import { stripAnsi } from "../term/ansi.ts";

export const STYLE = {
  default: 0,
  red: 1,
  green: 2,
  yellow: 3,
  blue: 4,
  magenta: 5,
  cyan: 6,
  white: 7,
  gray: 8,
  bold: 0x100,
  dim: 0x200,
  underline: 0x400,
  reverse: 0x800,
} as const;

const FG = ["", "31", "32", "33", "34", "35", "36", "37", "90"];
/** 256-colour backgrounds, cool to hot; dark enough for white text on each. */
const HEAT_BG = [19, 25, 30, 34, 100, 136, 166, 160];
export const HEAT_STEPS = HEAT_BG.length;

/** The background style for a value in [0, 1] (clamped; NaN counts as 0). */
export function heat(value: number): number {
  const v = value > 0 ? Math.min(1, value) : 0;
  return (Math.min(HEAT_STEPS - 1, Math.floor(v * HEAT_STEPS)) + 1) << 4;
}

/** SGR parameters for a style ("" for the default look), e.g. "1;31;48;5;160". */
export function sgr(style: number, color: boolean): string {
  if (!color) return style & STYLE.reverse ? "7" : "";
  const p: string[] = [];
  if (style & STYLE.bold) p.push("1");
  if (style & STYLE.dim) p.push("2");
  if (style & STYLE.underline) p.push("4");
  if (style & STYLE.reverse) p.push("7");
  const fg = FG[style & 0xf];
  if (fg) p.push(fg);
  const bg = HEAT_BG[((style >> 4) & 0xf) - 1];
  if (bg !== undefined) p.push(`48;5;${bg}`);
  return p.join(";");
}

/** The escape that switches from one `sgr()` look to another ("" when they are equal). */
export function sgrSwitch(from: string, to: string): string {
  if (from === to) return "";
  if (to === "") return "\x1b[0m";
  return from === "" ? `\x1b[${to}m` : `\x1b[0;${to}m`;
}

const SEGMENTER = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * Text made only of characters one column wide and one code unit long, each its own grapheme:
 * printable ASCII, Latin-1 and Latin Extended, dashes, quotes and "…", arrows, box drawing,
 * blocks, geometric shapes (less the two emoji among them) and braille. Most of what the
 * monitor draws; such text skips grapheme segmentation, which costs about a microsecond a call.
 */
const NARROW =
  /^[\x20-\x7e\u00a0-\u00ac\u00ae-\u02ff\u2010-\u2027\u2030-\u205e\u2190-\u21ff\u2500-\u25fc\u2800-\u28ff]*$/;

/** The graphemes of `s` (user-perceived characters: "é", "👍🏽" are one each). */
export function graphemes(s: string): string[] {
  const out: string[] = [];
  for (const { segment } of SEGMENTER.segment(s)) out.push(segment);
  return out;
}

// East Asian Wide and Fullwidth blocks (an approximation of UAX #11 good for terminals).
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x20000, 0x3fffd],
];
const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F/u;
const ZERO = /^[\p{M}\p{Cc}\p{Cf}]+$/u;

/**
 * Columns a grapheme takes: 2 for CJK and emoji, 0 for control and lone combining or format
 * characters, 1 otherwise (box-drawing, blocks and braille included).
 */
export function graphemeWidth(g: string): number {
  const cp = g.codePointAt(0) ?? 0;
  if (cp < 0x7f) return cp >= 0x20 ? 1 : 0; // the fast path
  if (ZERO.test(g)) return 0;
  for (const [lo, hi] of WIDE) if (cp >= lo && cp <= hi) return 2;
  return EMOJI.test(g) ? 2 : 1;
}

/** Columns a string takes on screen, ignoring escape sequences (visibleWidth, grapheme-aware). */
export function displayWidth(s: string): number {
  if (NARROW.test(s)) return s.length;
  const plain = stripAnsi(s);
  if (NARROW.test(plain)) return plain.length;
  let n = 0;
  for (const g of graphemes(plain)) n += graphemeWidth(g);
  return n;
}

/** `s` cut to at most `width` columns, ending with "…" when cut. */
export function fitWidth(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  if (width <= 0) return "";
  let out = "";
  let n = 0;
  for (const g of graphemes(stripAnsi(s))) {
    const w = graphemeWidth(g);
    if (n + w > width - 1) break;
    out += g;
    n += w;
  }
  return out + "…";
}

/** `s` in lines of at most `width` columns, broken at spaces where it can be (else mid-word). */
export function wrapText(s: string, width: number): string[] {
  if (width <= 0) return [];
  const lines: string[] = [];
  let line = "";
  for (const word of s.split(/\s+/).filter((x) => x !== "")) {
    const joined = line ? `${line} ${word}` : word;
    if (displayWidth(joined) <= width) {
      line = joined;
      continue;
    }
    if (line) lines.push(line);
    line = word;
    while (displayWidth(line) > width) {
      // a word longer than the line: its first `width` columns, then the rest
      let head = "", n = 0;
      for (const g of graphemes(line)) {
        if (n + graphemeWidth(g) > width) break;
        head += g;
        n += graphemeWidth(g);
      }
      if (head === "") break;
      lines.push(head);
      line = line.slice(head.length);
    }
  }
  if (line) lines.push(line);
  return lines;
}

export interface Cell {
  ch: string;
  style: number;
}

export class ScreenBuffer {
  readonly width: number;
  readonly height: number;
  readonly #ch: string[];
  readonly #st: Uint16Array;

  constructor(width: number, height: number) {
    this.width = Math.max(0, Math.floor(width));
    this.height = Math.max(0, Math.floor(height));
    this.#ch = new Array<string>(this.width * this.height).fill(" ");
    this.#st = new Uint16Array(this.width * this.height);
  }

  /** The cell at (x, y); a blank default cell outside the buffer. */
  cell(x: number, y: number): Cell {
    return { ch: this.charAt(x, y), style: this.styleAt(x, y) };
  }

  charAt(x: number, y: number): string {
    return this.#inside(x, y) ? this.#ch[y * this.width + x] as string : " ";
  }

  styleAt(x: number, y: number): number {
    return this.#inside(x, y) ? this.#st[y * this.width + x] as number : 0;
  }

  #inside(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.width && y < this.height;
  }

  /** Put a grapheme of width w (1 or 2) whose cells are all inside the buffer. */
  #put(x: number, y: number, g: string, w: number, style: number): void {
    const i = y * this.width + x;
    // blank the halves of wide graphemes this one cuts in two
    if (this.#ch[i] === "" && x > 0) this.#ch[i - 1] = " ";
    if (x + w < this.width && this.#ch[i + w] === "") this.#ch[i + w] = " ";
    this.#ch[i] = g;
    this.#st[i] = style;
    if (w === 2) {
      this.#ch[i + 1] = "";
      this.#st[i + 1] = style;
    }
  }

  /**
   * Write `s` from (x, y), clipped at the buffer's edges and after `maxWidth` columns; a wide
   * grapheme that does not fit whole is dropped. Escape sequences and control characters are
   * ignored. Returns the columns the text advanced (written or clipped at the left edge).
   */
  text(x: number, y: number, s: string, style = 0, maxWidth = Infinity): number {
    if (y < 0 || y >= this.height || maxWidth <= 0) return 0;
    const limit = Math.min(this.width, x + maxWidth);
    let col = x;
    if (NARROW.test(s)) {
      // one column a code unit: no segmentation, no width look-ups
      for (let i = 0; i < s.length && col < limit; i++, col++) {
        if (col >= 0) this.#put(col, y, s[i]!, 1, style);
      }
      return col - x;
    }
    for (const g of graphemes(stripAnsi(s))) {
      const w = graphemeWidth(g);
      if (w === 0) continue;
      if (col + w > limit) break;
      if (col >= 0) this.#put(col, y, g, w, style);
      else if (col + w > 0) this.#put(0, y, " ", 1, style); // a wide grapheme cut by the edge
      col += w;
    }
    return col - x;
  }

  /** Fill a rectangle (clipped) with a character, spaces by default. */
  fill(x: number, y: number, w: number, h: number, ch = " ", style = 0): void {
    const g = graphemes(ch)[0] ?? " ";
    const gw = Math.max(1, graphemeWidth(g));
    const x0 = Math.max(0, x), x1 = Math.min(this.width, x + w);
    for (let row = Math.max(0, y); row < Math.min(this.height, y + h); row++) {
      for (let col = x0; col + gw <= x1; col += gw) this.#put(col, row, g, gw, style);
    }
  }

  /**
   * A light box (┌─┐│└┘) on the rectangle's border, clipped; the inside is left as it is. The
   * title sits in the top border as "┌─ title ─┐", bold, cut with "…" when the box is narrow.
   * `double` draws it in double lines (╔═╗║╚╝), as the focused panel is.
   */
  box(x: number, y: number, w: number, h: number, title?: string, style = 0, double = false): void {
    if (w < 2 || h < 2) return;
    const [tl, tr, bl, br, hz, vt] = double ? "╔╗╚╝═║" : "┌┐└┘─│";
    const r = x + w - 1, b = y + h - 1;
    this.text(x, y, tl + hz!.repeat(w - 2) + tr, style);
    this.text(x, b, bl + hz!.repeat(w - 2) + br, style);
    for (let row = y + 1; row < b; row++) {
      this.text(x, row, vt!, style);
      this.text(r, row, vt!, style);
    }
    if (title && w >= 7) this.text(x + 2, y, ` ${fitWidth(title, w - 6)} `, style | STYLE.bold);
  }

  /** Rows as plain text, trailing spaces trimmed. */
  lines(): string[] {
    const out: string[] = [];
    for (let y = 0; y < this.height; y++) {
      const i = y * this.width;
      out.push(this.#ch.slice(i, i + this.width).join("").trimEnd());
    }
    return out;
  }

  /**
   * Rows with SGR escapes, each ending reset. Trailing blanks that render as nothing (a space
   * in the default look) are trimmed, so with color=false the rows equal `lines()` unless
   * reverse video is used.
   */
  styledLines(color: boolean): string[] {
    const out: string[] = [];
    for (let y = 0; y < this.height; y++) {
      const i = y * this.width;
      let end = this.width;
      while (
        end > 0 && this.#ch[i + end - 1] === " " && sgr(this.#st[i + end - 1] ?? 0, color) === ""
      ) {
        end--;
      }
      let s = "";
      let cur = "";
      for (let x = 0; x < end; x++) {
        const p = sgr(this.#st[i + x] ?? 0, color);
        s += sgrSwitch(cur, p) + this.#ch[i + x];
        cur = p;
      }
      out.push(s + sgrSwitch(cur, ""));
    }
    return out;
  }
}
