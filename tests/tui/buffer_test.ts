import assert from "node:assert/strict";
import fc from "fast-check";
import {
  displayWidth,
  fitWidth,
  graphemeWidth,
  heat,
  HEAT_STEPS,
  ScreenBuffer,
  sgr,
  sgrSwitch,
  STYLE,
  wrapText,
} from "../../lib/tui/buffer.ts";

Deno.test("displayWidth() counts box-drawing, blocks and braille as 1, CJK and emoji as 2", () => {
  assert.equal(displayWidth("┌─┐│└┘┤"), 7);
  assert.equal(displayWidth("▁▂▃▄▅▆▇█░▌"), 10);
  assert.equal(displayWidth("⠀⣿⢳"), 3);
  assert.equal(displayWidth("中文"), 4);
  assert.equal(displayWidth("한"), 2);
  assert.equal(displayWidth("ＡＢ"), 4);
  assert.equal(displayWidth("🔥"), 2);
  assert.equal(displayWidth("👍🏽"), 2);
  assert.equal(displayWidth("🇩🇪"), 2);
  assert.equal(displayWidth("❤️"), 2);
  assert.equal(displayWidth("°C µs ×"), 7);
  assert.equal(displayWidth("e\u0301"), 1);
  assert.equal(displayWidth("\x1b[31mred\x1b[0m"), 3);
  assert.equal(displayWidth("a\tb\u200b"), 2);
  assert.equal(graphemeWidth("\u0301"), 0);
});

Deno.test("fitWidth() cuts by display width and ends with an ellipsis", () => {
  assert.equal(fitWidth("abcdef", 6), "abcdef");
  assert.equal(fitWidth("abcdef", 4), "abc…");
  assert.equal(fitWidth("中文字", 4), "中…");
  assert.equal(fitWidth("abc", 0), "");
});

Deno.test("ScreenBuffer.text() clips at the edge and at maxWidth", () => {
  const b = new ScreenBuffer(8, 2);
  assert.equal(b.text(5, 0, "abcdef"), 3);
  assert.equal(b.text(0, 1, "abcdef", 0, 2), 2);
  assert.equal(b.text(-2, 1, "xyz"), 3);
  assert.equal(b.text(0, 5, "off"), 0);
  assert.deepEqual(b.lines(), ["     abc", "zb"]);
});

Deno.test("ScreenBuffer.text() keeps a wide grapheme whole or drops it", () => {
  const b = new ScreenBuffer(5, 3);
  b.text(0, 0, "ab中文");
  b.text(0, 1, "中x", 0, 1);
  b.fill(0, 2, 5, 1, "#");
  b.text(-1, 2, "中ab"); // the right half left of the edge shows as a blank
  assert.deepEqual(b.lines(), ["ab中", "", " ab##"]);
  assert.deepEqual(b.cell(2, 0), { ch: "中", style: 0 });
  assert.deepEqual(b.cell(3, 0), { ch: "", style: 0 });
  assert.equal(b.charAt(4, 0), " ");
});

Deno.test("ScreenBuffer.text() blanks the other half of a wide grapheme it overwrites", () => {
  const b = new ScreenBuffer(6, 2);
  b.text(0, 0, "中文");
  b.text(1, 0, "x"); // right half of 中
  b.text(0, 1, "中文");
  b.text(2, 1, "y"); // left half of 文
  assert.deepEqual(b.lines(), [" x文", "中y"]);
  assert.deepEqual([b.charAt(0, 0), b.charAt(1, 0), b.charAt(2, 0), b.charAt(3, 0)], [
    " ",
    "x",
    "文",
    "",
  ]);
  assert.equal(b.charAt(3, 1), " ");
});

Deno.test("ScreenBuffer keeps every wide grapheme paired with an empty right cell", () => {
  const alphabet = ["a", "中", "🔥", "⣿", "─", " ", "é"];
  const op = fc.record({
    x: fc.integer({ min: -3, max: 12 }),
    y: fc.integer({ min: 0, max: 3 }),
    s: fc.array(fc.constantFrom(...alphabet), { maxLength: 8 }).map((a) => a.join("")),
    max: fc.integer({ min: 0, max: 12 }),
    fill: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
      const b = new ScreenBuffer(9, 3);
      for (const o of ops) {
        if (o.fill) b.fill(o.x, o.y, o.max, 2, o.s || " ");
        else b.text(o.x, o.y, o.s, 0, o.max);
      }
      for (let y = 0; y < 3; y++) {
        let cols = 0;
        for (let x = 0; x < 9; x++) {
          const ch = b.charAt(x, y);
          const wide = graphemeWidth(ch) === 2;
          assert.equal(wide, b.charAt(x + 1, y) === "" && x + 1 < 9, `(${x},${y}) ${ch}`);
          if (ch === "") assert.equal(graphemeWidth(b.charAt(x - 1, y)), 2);
          cols += graphemeWidth(ch);
        }
        assert.equal(cols, 9);
        assert.ok(displayWidth(b.lines()[y] ?? "") <= 9);
      }
    }),
  );
});

Deno.test("ScreenBuffer.fill() fills the clipped rectangle", () => {
  const b = new ScreenBuffer(5, 3);
  b.fill(3, 1, 10, 10, "#", STYLE.red);
  b.fill(-1, 0, 2, 1, "=");
  assert.deepEqual(b.lines(), ["=", "   ##", "   ##"]);
  assert.equal(b.styleAt(4, 2), STYLE.red);
  assert.equal(b.styleAt(2, 2), 0);
});

Deno.test("ScreenBuffer.box() draws a light box with the title in the top border", () => {
  const b = new ScreenBuffer(16, 4);
  b.box(0, 0, 16, 4, "GPUs", STYLE.cyan);
  assert.deepEqual(b.lines(), [
    "┌─ GPUs ───────┐",
    "│              │",
    "│              │",
    "└──────────────┘",
  ]);
  assert.equal(b.styleAt(0, 0), STYLE.cyan);
  assert.equal(b.styleAt(3, 0), STYLE.cyan | STYLE.bold);
});

Deno.test("ScreenBuffer.box() cuts a long title and clips at the buffer edge", () => {
  const b = new ScreenBuffer(10, 3);
  b.box(0, 0, 9, 3, "throughput");
  b.box(6, 1, 8, 5);
  assert.deepEqual(b.lines(), ["┌─ th… ─┐", "│     ┌───", "└─────│─┘"]);
  b.box(0, 0, 1, 3, "x"); // too small: nothing
  assert.equal(b.lines()[0], "┌─ th… ─┐");
});

Deno.test("ScreenBuffer.lines() trims trailing spaces, styledLines() trailing plain blanks", () => {
  const b = new ScreenBuffer(8, 2);
  b.text(0, 0, "ok  ");
  b.text(0, 1, "sel", STYLE.reverse | STYLE.green);
  b.text(3, 1, "  ", STYLE.reverse);
  assert.deepEqual(b.lines(), ["ok", "sel"]);
  assert.deepEqual(b.styledLines(false), ["ok", "\x1b[7msel  \x1b[0m"]);
  assert.deepEqual(b.styledLines(true), ["ok", "\x1b[7;32msel\x1b[0;7m  \x1b[0m"]);
});

Deno.test("ScreenBuffer.styledLines(false) has no escapes unless reverse is used", () => {
  const b = new ScreenBuffer(12, 1);
  b.text(0, 0, "a", STYLE.red | STYLE.bold);
  b.text(1, 0, "b", STYLE.dim | STYLE.underline | heat(0.9));
  b.text(2, 0, "  ", heat(0.1));
  assert.deepEqual(b.styledLines(false), ["ab"]);
  assert.deepEqual(b.styledLines(true), [
    "\x1b[1;31ma\x1b[0;2;4;48;5;160mb\x1b[0;48;5;19m  \x1b[0m",
  ]);
});

Deno.test("sgr() maps each style bit to its SGR parameter", () => {
  assert.equal(sgr(STYLE.default, true), "");
  assert.equal(sgr(STYLE.bold | STYLE.dim | STYLE.underline | STYLE.reverse, true), "1;2;4;7");
  const fgs = [STYLE.red, STYLE.green, STYLE.yellow, STYLE.blue, STYLE.magenta, STYLE.cyan];
  assert.deepEqual(fgs.map((s) => sgr(s, true)), ["31", "32", "33", "34", "35", "36"]);
  assert.equal(sgr(STYLE.white, true), "37");
  assert.equal(sgr(STYLE.gray, true), "90");
  assert.equal(sgr(STYLE.cyan | STYLE.bold | heat(1), true), "1;36;48;5;160");
  assert.equal(sgr(STYLE.cyan | STYLE.bold | heat(1), false), "");
  assert.equal(sgr(STYLE.reverse | STYLE.red, false), "7");
});

Deno.test("heat() steps from cool to hot over [0, 1], clamped", () => {
  const steps = Array.from({ length: HEAT_STEPS }, (_, i) => heat((i + 0.5) / HEAT_STEPS));
  assert.equal(new Set(steps.map((s) => sgr(s, true))).size, HEAT_STEPS);
  assert.ok(HEAT_STEPS >= 5 && HEAT_STEPS <= 8);
  assert.equal(heat(0), steps[0]);
  assert.equal(heat(-3), steps[0]);
  assert.equal(heat(NaN), steps[0]);
  assert.equal(heat(1), steps.at(-1));
  assert.equal(heat(7), steps.at(-1));
  assert.equal(sgr(heat(0), true), "48;5;19");
  for (const s of steps) assert.equal(s & ~0xf0, 0, "only background bits");
});

Deno.test("sgrSwitch() resets only when leaving a non-default look", () => {
  assert.equal(sgrSwitch("", ""), "");
  assert.equal(sgrSwitch("31", "31"), "");
  assert.equal(sgrSwitch("", "31"), "\x1b[31m");
  assert.equal(sgrSwitch("31", "1"), "\x1b[0;1m");
  assert.equal(sgrSwitch("31", ""), "\x1b[0m");
});

Deno.test("wrapText() breaks at spaces within the width, a longer word mid-word, and keeps every word", () => {
  assert.deepEqual(wrapText("state.json: not valid JSON (Unexpected end of input)", 20), [
    "state.json: not",
    "valid JSON",
    "(Unexpected end of",
    "input)",
  ]);
  assert.deepEqual(wrapText("runs/20261126-090000-llama/state.json", 12), [
    "runs/2026112",
    "6-090000-lla",
    "ma/state.jso",
    "n",
  ]);
  assert.deepEqual(wrapText("", 10), []);
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[a-z訓]{1,30}$/)),
      fc.integer({ min: 2, max: 40 }),
      (words, w) => {
        const lines = wrapText(words.join(" "), w);
        for (const l of lines) assert.ok(displayWidth(l) <= w, `${l} wider than ${w}`);
        assert.equal(lines.join("").replaceAll(" ", ""), words.join(""));
      },
    ),
  );
});
