/**
 * Raw-mode terminal input → keys. Stateless: one read is decoded on its own (terminals write
 * an escape sequence in one go, so it arrives in one read). No mouse reporting is enabled, so
 * none is decoded.
 */

export type Key =
  | { name: "char"; char: string }
  | {
    name:
      | "enter"
      | "tab"
      | "backtab"
      | "backspace"
      | "escape"
      | "up"
      | "down"
      | "left"
      | "right"
      | "home"
      | "end"
      | "pageup"
      | "pagedown"
      | "delete"
      | "unknown";
  }
  | { name: "ctrl"; key: string };

type Named = Exclude<Key["name"], "char" | "ctrl">;

/** CSI / SS3 final letters (modifier parameters such as ESC [ 1 ; 5 A are ignored). */
const FINAL: Record<string, Named> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  Z: "backtab",
};

/** ESC [ n ~ (rxvt and the Linux console send 1/4 or 7/8 for Home/End). */
const TILDE: Record<string, Named> = {
  "1": "home",
  "7": "home",
  "4": "end",
  "8": "end",
  "3": "delete",
  "5": "pageup",
  "6": "pagedown",
};

const DECODER = new TextDecoder(); // invalid UTF-8 becomes U+FFFD, one char key

/**
 * Keys in a chunk of input, in order. "\r\n" is one Enter (a paste from some terminals).
 * ESC followed by a key that starts no sequence is Escape and then that key (Esc pressed then
 * typed quickly, or Alt+key). An unknown or cut-off sequence is one "unknown" key, and decoding
 * goes on after it.
 */
export function parseKeys(bytes: Uint8Array | string): Key[] {
  const s = typeof bytes === "string" ? bytes : DECODER.decode(bytes);
  const keys: Key[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.codePointAt(i) as number;
    if (c === 0x1b) {
      i = escape(s, i + 1, keys);
      continue;
    }
    i += c > 0xffff ? 2 : 1;
    if (c === 0x0d || c === 0x0a) {
      if (c === 0x0d && s.charCodeAt(i) === 0x0a) i++;
      keys.push({ name: "enter" });
    } else if (c === 0x09) keys.push({ name: "tab" });
    else if (c === 0x7f || c === 0x08) keys.push({ name: "backspace" });
    else if (c === 0x00) keys.push({ name: "ctrl", key: "@" });
    else if (c < 0x1b) keys.push({ name: "ctrl", key: String.fromCharCode(c + 0x60) });
    else if (c < 0x20) keys.push({ name: "ctrl", key: String.fromCharCode(c + 0x40) }); // \ ] ^ _
    else if (c >= 0x80 && c < 0xa0) keys.push({ name: "unknown" }); // C1 controls
    else keys.push({ name: "char", char: String.fromCodePoint(c) });
  }
  return keys;
}

/** Decode what follows an ESC at `i`; returns where decoding goes on. */
function escape(s: string, i: number, keys: Key[]): number {
  const next = s[i];
  if (next === "[") {
    // CSI: parameter bytes 0x30–0x3f, intermediates 0x20–0x2f, one final byte 0x40–0x7e
    let j = i + 1;
    while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x3f) j++;
    const params = s.slice(i + 1, j);
    while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x2f) j++;
    const f = s.charCodeAt(j);
    if (!(f >= 0x40 && f <= 0x7e)) {
      keys.push({ name: "unknown" }); // cut off or malformed: keep what stopped it
      return j;
    }
    const final = s[j] as string;
    const name = final === "~" ? TILDE[params.split(";")[0] ?? ""] : FINAL[final];
    keys.push({ name: name ?? "unknown" });
    return j + 1;
  }
  if (next === "O") {
    // SS3 (application cursor keys): ESC O A…; anything else after ESC O is unknown
    const name = FINAL[s[i + 1] ?? ""];
    if (name) {
      keys.push({ name });
      return i + 2;
    }
    keys.push({ name: "unknown" });
    const f = s.charCodeAt(i + 1);
    return f >= 0x40 && f <= 0x7e ? i + 2 : i + 1; // F1–F4 (ESC O P…) are known to be 3 bytes
  }
  keys.push({ name: "escape" });
  return i;
}
