import assert from "node:assert/strict";
import fc from "fast-check";
import { CLEAR_DOWN, CLEAR_LINE, cursorUp, paint, stripAnsi } from "../../lib/term/ansi.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import { Screen } from "../../lib/term/screen.ts";

function screen(
  opts: { columns?: number; rows?: number; color?: boolean; live?: boolean; wrap?: boolean } = {},
) {
  const { wrap, ...termOpts } = opts;
  const term = new MemoryTerminal(termOpts);
  return { term, screen: new Screen(term, wrap === undefined ? {} : { wrap }) };
}

/** The last chunk written. */
function last(term: MemoryTerminal): string {
  return term.chunks.at(-1) ?? "";
}

Deno.test("Screen.region() writes nothing off a TTY", () => {
  const { term, screen: s } = screen({ live: false });
  s.region(["bar one", "bar two"]);
  s.clearRegion();
  assert.equal(term.text, "");
  assert.deepEqual(s.regionLines, []);
});

Deno.test("Screen.log() writes plain lines off a TTY", () => {
  const { term, screen: s } = screen({ live: false, columns: 80 });
  s.log(paint(true, "red", "warning") + ": hot");
  s.log("a\nb");
  assert.equal(term.text, "warning: hot\na\nb\n");
});

Deno.test("Screen.log() wraps at the width when wrap is on", () => {
  const { term, screen: s } = screen({ live: false, columns: 10 });
  s.region(["ignored"]);
  s.log("0123456789abcdef\nshort");
  assert.equal(term.text, "0123456789\nabcdef\nshort\n");
});

Deno.test("Screen.log() keeps long lines when wrap is off", () => {
  const { term, screen: s } = screen({ live: false, columns: 10, wrap: false });
  s.log("0123456789abcdef\nshort");
  s.log(paint(true, "red", "colored but plain"));
  assert.equal(term.text, "0123456789abcdef\nshort\ncolored but plain\n");
});

Deno.test("Screen.region() draws each line once on a TTY", () => {
  const { term, screen: s } = screen({ live: true, columns: 20 });
  s.region(["bar one", "bar two"]);
  assert.equal(term.text, `${CLEAR_LINE}bar one\n${CLEAR_LINE}bar two\n`);
  assert.deepEqual(s.regionLines, ["bar one", "bar two"]);
});

Deno.test("Screen.region() with the same lines writes only cursor moves and newlines", () => {
  const { term, screen: s } = screen({ live: true, columns: 20 });
  s.region(["bar one", "bar two"]);
  s.region(["bar one", "bar two"]);
  assert.equal(last(term), `${cursorUp(2)}\n\n`);
});

Deno.test("Screen.region() rewrites only the line that changed", () => {
  const { term, screen: s } = screen({ live: true, columns: 20 });
  s.region(["bar one", "bar two", "bar three"]);
  s.region(["bar one", "bar 2", "bar three"]);
  assert.equal(last(term), `${cursorUp(3)}\n${CLEAR_LINE}bar 2\n\n`);
});

Deno.test("Screen.region() clears below when the region shrinks", () => {
  const { term, screen: s } = screen({ live: true, columns: 20 });
  s.region(["a", "b", "c"]);
  s.region(["x"]);
  assert.equal(last(term), `${cursorUp(3)}${CLEAR_LINE}x\n${CLEAR_DOWN}`);
  assert.deepEqual(s.regionLines, ["x"]);
});

Deno.test("Screen.region() cuts lines to the width and keeps the last rows - 1 lines", () => {
  const { screen: s } = screen({ live: true, columns: 20, rows: 4 });
  s.region(["a", "b", "c", "a very long line that is more than twenty columns"]);
  assert.deepEqual(s.regionLines, ["b", "c", "a very long line th…"]);
});

Deno.test("Screen.region() strips colour when the terminal has none", () => {
  const { term, screen: s } = screen({ live: true, columns: 20, color: false });
  s.region([paint(true, "green", "ok")]);
  assert.equal(term.text, `${CLEAR_LINE}ok\n`);
});

Deno.test("Screen.log() with a region moves up, clears, logs and redraws the region", () => {
  const { term, screen: s } = screen({ live: true, columns: 20 });
  s.region(["bar one", "bar two"]);
  s.log("hello");
  assert.equal(last(term), `${cursorUp(2)}${CLEAR_DOWN}hello\nbar one\nbar two\n`);
});

Deno.test("Screen.log() without a region just prints on a TTY", () => {
  const { term, screen: s } = screen({ live: true, columns: 20 });
  s.log("hello");
  assert.equal(term.text, "hello\n");
});

Deno.test("Screen.clearRegion() erases the region once", () => {
  const { term, screen: s } = screen({ live: true, columns: 20 });
  s.region(["a", "b"]);
  s.clearRegion();
  assert.equal(last(term), `${cursorUp(2)}${CLEAR_DOWN}`);
  assert.deepEqual(s.regionLines, []);
  const n = term.chunks.length;
  s.clearRegion();
  s.log("after");
  assert.equal(term.chunks.length, n + 1);
  assert.equal(last(term), "after\n");
});

Deno.test("Screen.keepRegion() leaves the frame and starts a new region below it", () => {
  const { term, screen: s } = screen({ live: true, columns: 20 });
  s.region(["done"]);
  s.keepRegion();
  s.region(["next"]);
  assert.equal(last(term), `${CLEAR_LINE}next\n`);
});

/** Lines a terminal would show from the bytes written, escapes stripped. */
function printedLines(text: string): string[] {
  return text.split("\n").map(stripAnsi);
}

Deno.test("Screen never prints a line wider than the columns", () => {
  const line = fc.array(
    fc.oneof(
      fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
      fc.string({ unit: "grapheme-ascii", maxLength: 30 }).map((t) => paint(true, "yellow", t)),
    ),
    { maxLength: 8 },
  ).map((parts) => parts.join(""));
  const op = fc.oneof(
    fc.record({ kind: fc.constant("log" as const), lines: fc.array(line, { maxLength: 3 }) }),
    fc.record({ kind: fc.constant("region" as const), lines: fc.array(line, { maxLength: 6 }) }),
    fc.record({ kind: fc.constant("clear" as const), lines: fc.constant([]) }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 20, max: 120 }),
      fc.boolean(),
      fc.boolean(),
      fc.array(op, { maxLength: 12 }),
      (columns, live, color, ops) => {
        const { term, screen: s } = screen({ columns, rows: 10, live, color });
        for (const o of ops) {
          if (o.kind === "log") s.log(o.lines.join("\n"));
          else if (o.kind === "region") s.region(o.lines);
          else s.clearRegion();
        }
        for (const l of printedLines(term.text)) {
          assert.ok(l.length <= columns, `${l.length} > ${columns}: ${JSON.stringify(l)}`);
        }
        if (!color) assert.ok(!term.text.includes("\x1b[33m"), "colour on a colourless terminal");
        if (!live && !color) assert.ok(!term.text.includes("\x1b"), "escapes written off a TTY");
      },
    ),
    { numRuns: 500 },
  );
});
