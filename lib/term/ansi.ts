/** ANSI escapes: a few SGR styles and cursor moves, and width arithmetic that ignores them. */

const SGR: Record<string, string> = {
  bold: "1",
  dim: "2",
  italic: "3",
  underline: "4",
  inverse: "7",
  red: "31",
  green: "32",
  yellow: "33",
  blue: "34",
  magenta: "35",
  cyan: "36",
  white: "37",
  gray: "90",
  brightRed: "91",
  brightGreen: "92",
  brightYellow: "93",
  brightBlue: "94",
  brightMagenta: "95",
  brightCyan: "96",
};

export type Style = keyof typeof SGR;

/** Wrap `s` in the styles when colour is on; plain `s` otherwise. */
export function paint(color: boolean, style: Style | readonly Style[], s: string): string {
  if (!color || s.length === 0) return s;
  const codes = typeof style === "string" ? SGR[style] : style.map((x) => SGR[x]).join(";");
  return `\x1b[${codes}m${s}\x1b[0m`;
}

/** 256-colour foreground (heat maps). */
export function paint256(color: boolean, code: number, s: string): string {
  return color ? `\x1b[38;5;${code}m${s}\x1b[0m` : s;
}

export const HIDE_CURSOR = "\x1b[?25l";
export const SHOW_CURSOR = "\x1b[?25h";
export const RESET = "\x1b[0m";
export const CLEAR_LINE = "\x1b[2K";
export const CLEAR_DOWN = "\x1b[J";

export function cursorUp(n: number): string {
  return n > 0 ? `\x1b[${n}A` : "";
}

// deno-lint-ignore no-control-regex
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Text without escape sequences. */
export function stripAnsi(s: string): string {
  return s.includes("\x1b") ? s.replace(ESCAPES, "") : s;
}

/** Columns the text occupies (all characters llm-sim prints are one column wide). */
export function visibleWidth(s: string): number {
  return stripAnsi(s).length;
}

/**
 * Split a line into pieces of at most `width` visible columns, keeping escape sequences with
 * the text they style (a hard wrap at the column a terminal would soft-wrap at).
 */
export function wrapLine(s: string, width: number): string[] {
  if (visibleWidth(s) <= width) return [s];
  const out: string[] = [];
  let cur = "";
  let n = 0;
  let i = 0;
  while (i < s.length) {
    if (s.charCodeAt(i) === 0x1b) {
      ESCAPES.lastIndex = i;
      const m = ESCAPES.exec(s);
      if (m && m.index === i) {
        cur += m[0];
        i += m[0].length;
        continue;
      }
    }
    if (n === width) {
      out.push(cur);
      cur = "";
      n = 0;
    }
    cur += s[i];
    n++;
    i++;
  }
  out.push(cur);
  return out;
}

/** Cut to `width` visible columns (ending with "…" when cut), keeping escapes intact. */
export function truncate(s: string, width: number): string {
  if (visibleWidth(s) <= width) return s;
  if (width <= 0) return "";
  const parts = wrapLine(s, width - 1);
  const head = parts[0] ?? "";
  return head + (head.includes("\x1b") ? RESET : "") + "…";
}
