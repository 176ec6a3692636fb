/**
 * The bytes that turn a terminal showing one ScreenBuffer into one showing the next: only the
 * cells whose look changed are written, the cursor is moved (CUP) only when the next changed
 * cell is not where the cursor already stands, and SGR is sent only when the style changes.
 *
 * Assumes what every frame leaves behind: attributes reset, cursor anywhere. Uses exactly CUP
 * (ESC [ row ; col H), SGR (ESC [ … m), ED 2 (ESC [ 2 J) and printable text.
 */
import { type ScreenBuffer, sgr, sgrSwitch } from "./buffer.ts";

function cup(x: number, y: number): string {
  if (x === 0) return y === 0 ? "\x1b[H" : `\x1b[${y + 1}H`;
  return `\x1b[${y + 1};${x + 1}H`;
}

/**
 * Escapes from `prev` to `next`. With no previous frame or a different size: one clear (after
 * a reset, so the cleared cells take the default background), then every non-blank cell.
 * Cells are compared by how they look in this mode, so without colour a change of colour
 * alone writes nothing.
 */
export function renderDiff(prev: ScreenBuffer | null, next: ScreenBuffer, color: boolean): string {
  const full = prev === null || prev.width !== next.width || prev.height !== next.height;
  let out = full ? "\x1b[0m\x1b[2J" : "";
  let cur = ""; // SGR parameters in effect
  let cx = -1, cy = -1; // where the cursor is; -1: unknown
  const { width, height } = next;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ch = next.charAt(x, y);
      if (ch === "") continue; // the right half of a wide grapheme, written with its left
      const style = next.styleAt(x, y);
      // Equal graphemes have equal widths, so comparing the left cell covers a wide pair; equal
      // styles look alike without building their SGR (most cells of a frame are unchanged).
      if (full) {
        if (ch === " " && sgr(style, color) === "") continue;
      } else if (prev.charAt(x, y) === ch) {
        const was = prev.styleAt(x, y);
        if (was === style || sgr(was, color) === sgr(style, color)) continue;
      }
      const p = sgr(style, color);
      if (cx !== x || cy !== y) out += cup(x, y);
      out += sgrSwitch(cur, p) + ch;
      cur = p;
      cy = y;
      // Past the last column (a pending wrap in xterm) this matches no cell: the next write
      // moves the cursor.
      cx = x + (next.charAt(x + 1, y) === "" ? 2 : 1);
    }
  }
  return out + sgrSwitch(cur, "");
}
