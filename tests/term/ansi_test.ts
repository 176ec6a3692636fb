import assert from "node:assert/strict";
import fc from "fast-check";
import {
  cursorUp,
  paint,
  paint256,
  RESET,
  stripAnsi,
  type Style,
  truncate,
  visibleWidth,
  wrapLine,
} from "../../lib/term/ansi.ts";

const STYLES: Style[] = ["bold", "dim", "red", "green", "yellow", "cyan", "gray", "brightRed"];

/** Text mixing plain runs with painted runs and cursor/erase escapes. */
const styled = fc.array(
  fc.oneof(
    fc.string({ unit: "grapheme-ascii", maxLength: 12 }),
    fc.tuple(fc.constantFrom(...STYLES), fc.string({ unit: "grapheme-ascii", maxLength: 12 }))
      .map(([style, s]) => paint(true, style, s)),
    fc.constantFrom("\x1b[2K", "\x1b[J", "\x1b[?25l", "\x1b[38;5;208m"),
  ),
  { maxLength: 10 },
).map((parts) => parts.join(""));

Deno.test("paint() returns plain text with colour off", () => {
  assert.equal(paint(false, "red", "hot"), "hot");
  assert.equal(paint(false, ["bold", "green"], "ok"), "ok");
  assert.equal(paint256(false, 208, "warm"), "warm");
});

Deno.test("paint() wraps text in SGR codes with colour on", () => {
  assert.equal(paint(true, "red", "hot"), "\x1b[31mhot\x1b[0m");
  assert.equal(paint(true, ["bold", "green"], "ok"), "\x1b[1;32mok\x1b[0m");
  assert.equal(paint(true, "red", ""), "");
  assert.equal(paint256(true, 208, "warm"), "\x1b[38;5;208mwarm\x1b[0m");
});

Deno.test("cursorUp() moves up n lines and does nothing for 0", () => {
  assert.equal(cursorUp(3), "\x1b[3A");
  assert.equal(cursorUp(0), "");
});

Deno.test("stripAnsi() removes SGR, cursor and erase escapes", () => {
  assert.equal(stripAnsi("\x1b[1;32mok\x1b[0m \x1b[2K\x1b[3Adone\x1b[J\x1b[?25h"), "ok done");
  assert.equal(stripAnsi("plain"), "plain");
});

Deno.test("stripAnsi() of painted text is the text", () => {
  fc.assert(
    fc.property(fc.constantFrom(...STYLES), fc.string({ unit: "grapheme-ascii" }), (st, s) => {
      assert.equal(stripAnsi(paint(true, st, s)), s);
    }),
  );
});

Deno.test("visibleWidth() counts columns without escapes", () => {
  assert.equal(visibleWidth(paint(true, "red", "abc") + "de"), 5);
  assert.equal(visibleWidth("█▌ 71°C"), 7);
  assert.equal(visibleWidth(""), 0);
});

Deno.test("wrapLine() leaves a line that fits alone", () => {
  const s = paint(true, "red", "abc");
  assert.deepEqual(wrapLine(s, 3), [s]);
  assert.deepEqual(wrapLine("", 5), [""]);
});

Deno.test("wrapLine() keeps escapes with the text they style", () => {
  const s = paint(true, "red", "abcdefghij") + "klmnop" +
    paint(true, ["bold", "green"], "qrstuvwxyz");
  assert.deepEqual(wrapLine(s, 7), [
    "\x1b[31mabcdefg",
    "hij\x1b[0mklmn",
    "op\x1b[1;32mqrstu",
    "vwxyz\x1b[0m",
  ]);
});

Deno.test("wrapLine() pieces are at most the width and join back to the line", () => {
  fc.assert(
    fc.property(styled, fc.integer({ min: 1, max: 40 }), (s, width) => {
      const pieces = wrapLine(s, width);
      assert.equal(pieces.join(""), s);
      for (const p of pieces) assert.ok(visibleWidth(p) <= width, JSON.stringify(p));
      // only the last piece may be short
      for (const p of pieces.slice(0, -1)) assert.equal(visibleWidth(p), width);
    }),
  );
});

Deno.test("truncate() leaves text that fits unchanged", () => {
  assert.equal(truncate("abc", 3), "abc");
  const s = paint(true, "red", "abc");
  assert.equal(truncate(s, 3), s);
});

Deno.test("truncate() cuts to the width with …", () => {
  assert.equal(truncate("abcdef", 3), "ab…");
  assert.equal(truncate("abcdef", 1), "…");
  assert.equal(truncate("abcdef", 0), "");
});

Deno.test("truncate() resets styles before the … of a cut styled line", () => {
  const s = paint(true, "red", "abcdefghij") + "klm";
  assert.equal(truncate(s, 12), `\x1b[31mabcdefghij\x1b[0mk${RESET}…`);
});

Deno.test("truncate() is never wider than the width", () => {
  fc.assert(
    fc.property(styled, fc.integer({ min: 0, max: 40 }), (s, width) => {
      const t = truncate(s, width);
      assert.ok(visibleWidth(t) <= width, JSON.stringify(t));
      if (visibleWidth(s) > width && width > 0) assert.ok(stripAnsi(t).endsWith("…"));
      if (visibleWidth(s) <= width) assert.equal(t, s);
    }),
  );
});
