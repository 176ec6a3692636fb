import assert from "node:assert/strict";
import fc from "fast-check";
import { type Key, parseKeys } from "../../lib/tui/keys.ts";

const names = (s: string | Uint8Array) => parseKeys(s).map((k) => k.name);

Deno.test("parseKeys() decodes printable characters, UTF-8 bytes included", () => {
  assert.deepEqual(parseKeys("q"), [{ name: "char", char: "q" }]);
  assert.deepEqual(parseKeys(" "), [{ name: "char", char: " " }]);
  assert.deepEqual(parseKeys(new TextEncoder().encode("é中🔥")), [
    { name: "char", char: "é" },
    { name: "char", char: "中" },
    { name: "char", char: "🔥" },
  ]);
  assert.deepEqual(parseKeys(new Uint8Array([0xff])), [{ name: "char", char: "\ufffd" }]);
  assert.deepEqual(parseKeys(""), []);
});

Deno.test("parseKeys() decodes Enter, Tab, Shift-Tab and Backspace", () => {
  assert.deepEqual(names("\r"), ["enter"]);
  assert.deepEqual(names("\n"), ["enter"]);
  assert.deepEqual(names("\r\n"), ["enter"]);
  assert.deepEqual(names("\r\r"), ["enter", "enter"]);
  assert.deepEqual(names("\t"), ["tab"]);
  assert.deepEqual(names("\x1b[Z"), ["backtab"]);
  assert.deepEqual(names("\x7f"), ["backspace"]);
  assert.deepEqual(names("\x08"), ["backspace"]);
});

Deno.test("parseKeys() decodes arrows in normal and application mode", () => {
  assert.deepEqual(names("\x1b[A\x1b[B\x1b[C\x1b[D"), ["up", "down", "right", "left"]);
  assert.deepEqual(names("\x1bOA\x1bOB\x1bOC\x1bOD"), ["up", "down", "right", "left"]);
  assert.deepEqual(names("\x1b[1;5A\x1b[1;2D"), ["up", "left"]); // with Ctrl / Shift
});

Deno.test("parseKeys() decodes Home, End, PageUp, PageDown and Delete", () => {
  assert.deepEqual(names("\x1b[H\x1b[F\x1bOH\x1bOF"), ["home", "end", "home", "end"]);
  assert.deepEqual(names("\x1b[1~\x1b[4~\x1b[7~\x1b[8~"), ["home", "end", "home", "end"]);
  assert.deepEqual(names("\x1b[5~\x1b[6~\x1b[3~"), ["pageup", "pagedown", "delete"]);
  assert.deepEqual(names("\x1b[3;5~"), ["delete"]);
});

Deno.test("parseKeys() decodes a lone ESC as Escape", () => {
  assert.deepEqual(parseKeys("\x1b"), [{ name: "escape" }]);
  assert.deepEqual(names("\x1b\x1b"), ["escape", "escape"]);
  assert.deepEqual(names("\x1b\x1b[A"), ["escape", "up"]);
  assert.deepEqual(parseKeys("\x1bq"), [{ name: "escape" }, { name: "char", char: "q" }]);
});

Deno.test("parseKeys() decodes control keys as ctrl", () => {
  assert.deepEqual(parseKeys("\x03"), [{ name: "ctrl", key: "c" }]);
  assert.deepEqual(parseKeys("\x04\x0c\x01\x1a"), [
    { name: "ctrl", key: "d" },
    { name: "ctrl", key: "l" },
    { name: "ctrl", key: "a" },
    { name: "ctrl", key: "z" },
  ]);
  assert.deepEqual(parseKeys("\x00\x1c\x1f"), [
    { name: "ctrl", key: "@" },
    { name: "ctrl", key: "\\" },
    { name: "ctrl", key: "_" },
  ]);
});

Deno.test("parseKeys() decodes several keys in one chunk in order", () => {
  const keys: Key[] = parseKeys("j\x1b[Bk\r\x03");
  assert.deepEqual(keys, [
    { name: "char", char: "j" },
    { name: "down" },
    { name: "char", char: "k" },
    { name: "enter" },
    { name: "ctrl", key: "c" },
  ]);
});

Deno.test("parseKeys() yields unknown for an unknown sequence and goes on after it", () => {
  assert.deepEqual(names("\x1b[15~q"), ["unknown", "char"]); // F5
  assert.deepEqual(names("\x1b[2~\x1b[A"), ["unknown", "up"]); // Insert
  assert.deepEqual(names("\x1bOPx"), ["unknown", "char"]); // F1
  assert.deepEqual(names("\x1b[<0;3;4M\t"), ["unknown", "tab"]); // a mouse report
  assert.deepEqual(names("\x1b[200~hi"), ["unknown", "char", "char"]); // bracketed paste start
  assert.deepEqual(names("\x1b[1;5"), ["unknown"]); // cut off
  assert.deepEqual(names("\x1b[1\r"), ["unknown", "enter"]); // malformed: keep the Enter
  assert.deepEqual(names("\x1bO"), ["unknown"]);
  assert.deepEqual(names("\x1bO\x03"), ["unknown", "ctrl"]);
  assert.deepEqual(names("\u0085a"), ["unknown", "char"]); // C1 control
});

Deno.test("parseKeys() reads printable text as one char key per code point", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), (s) => {
      const printable = [...s].filter((c) => !/[\p{Cc}]/u.test(c));
      const keys = parseKeys(printable.join(""));
      assert.deepEqual(keys, printable.map((char) => ({ name: "char", char })));
    }),
  );
});
