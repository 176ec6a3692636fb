import assert from "node:assert/strict";
import fc from "fast-check";
import { graphemes, graphemeWidth, heat, ScreenBuffer, sgr, STYLE } from "../../lib/tui/buffer.ts";
import { renderDiff } from "../../lib/tui/diff.ts";

/**
 * A tiny terminal: CUP, SGR (the parameters renderDiff can emit), ED 2, printable text with
 * xterm's pending wrap at the last column and blanking of cut wide characters. Anything else
 * throws, so an unexpected sequence fails the test.
 */
class VirtualTerminal {
  width: number;
  height: number;
  ch: string[];
  attr: string[];
  x = 0;
  y = 0;
  pendingWrap = false;
  #attrs = new Attrs();

  constructor(width: number, height: number, junk = "?") {
    this.width = width;
    this.height = height;
    this.ch = new Array<string>(width * height).fill(junk);
    this.attr = new Array<string>(width * height).fill("junk");
  }

  write(s: string): void {
    let i = 0;
    while (i < s.length) {
      if (s[i] === "\x1b") {
        // deno-lint-ignore no-control-regex
        const m = /^\x1b\[([0-9;]*)([A-Za-z])/.exec(s.slice(i));
        if (!m) throw new Error(`bad escape at ${i}: ${JSON.stringify(s.slice(i, i + 8))}`);
        this.#csi(m[1] as string, m[2] as string);
        i += m[0].length;
        continue;
      }
      let j = s.indexOf("\x1b", i);
      if (j < 0) j = s.length;
      for (const g of graphemes(s.slice(i, j))) this.#print(g);
      i = j;
    }
  }

  #csi(params: string, final: string): void {
    if (final === "H") {
      const [r, c] = params.split(";").map((p) => (p === "" ? 1 : Number(p)));
      this.y = (r ?? 1) - 1;
      this.x = (c ?? 1) - 1;
      assert.ok(this.y < this.height && this.x < this.width, `CUP ${params} off screen`);
      this.pendingWrap = false;
    } else if (final === "m") {
      this.#attrs.apply(params);
    } else if (final === "J" && params === "2") {
      this.ch.fill(" ");
      this.attr.fill(this.#attrs.bgOnly()); // erase uses the current background
    } else {
      throw new Error(`unsupported CSI ${params}${final}`);
    }
  }

  #print(g: string): void {
    const w = graphemeWidth(g);
    if (w === 0) throw new Error(`zero-width ${JSON.stringify(g)}`);
    if (this.pendingWrap || this.x + w > this.width) {
      this.x = 0;
      this.y++;
      this.pendingWrap = false;
      if (this.y >= this.height) throw new Error("the screen would scroll");
    }
    const i = this.y * this.width + this.x;
    if (this.ch[i] === "" && this.x > 0) this.ch[i - 1] = " ";
    if (this.x + w < this.width && this.ch[i + w] === "") this.ch[i + w] = " ";
    this.ch[i] = g;
    this.attr[i] = this.#attrs.key();
    if (w === 2) {
      this.ch[i + 1] = "";
      this.attr[i + 1] = this.#attrs.key();
    }
    if (this.x + w >= this.width) this.pendingWrap = true;
    else this.x += w;
  }
}

class Attrs {
  bold = false;
  dim = false;
  underline = false;
  reverse = false;
  fg = "";
  bg = "";

  apply(params: string): void {
    const p = params === "" ? ["0"] : params.split(";");
    for (let i = 0; i < p.length; i++) {
      const n = p[i] as string;
      if (n === "0") Object.assign(this, new Attrs());
      else if (n === "1") this.bold = true;
      else if (n === "2") this.dim = true;
      else if (n === "4") this.underline = true;
      else if (n === "7") this.reverse = true;
      else if (/^(3[0-7]|9[0-7])$/.test(n)) this.fg = n;
      else if (n === "48" && p[i + 1] === "5") (this.bg = p[i + 2] as string), (i += 2);
      else throw new Error(`unsupported SGR ${n}`);
    }
  }

  key(): string {
    return JSON.stringify([this.bold, this.dim, this.underline, this.reverse, this.fg, this.bg]);
  }

  bgOnly(): string {
    const a = new Attrs();
    a.bg = this.bg;
    return a.key();
  }
}

function attrKey(style: number, color: boolean): string {
  const a = new Attrs();
  a.apply(sgr(style, color));
  return a.key();
}

function assertShows(vt: VirtualTerminal, buf: ScreenBuffer, color: boolean): void {
  for (let y = 0; y < buf.height; y++) {
    for (let x = 0; x < buf.width; x++) {
      const i = y * buf.width + x;
      assert.equal(vt.ch[i], buf.charAt(x, y), `char at (${x},${y})`);
      assert.equal(vt.attr[i], attrKey(buf.styleAt(x, y), color), `style at (${x},${y})`);
    }
  }
}

const STYLES = [
  0,
  STYLE.red,
  STYLE.green | STYLE.bold,
  STYLE.reverse,
  STYLE.dim | STYLE.underline,
  heat(0.95) | STYLE.white,
  heat(0.2),
];

/** Random buffers built through text(), so they keep the buffer's invariants. */
function arbBuffer(width: number, height: number) {
  const write = fc.record({
    x: fc.nat({ max: width }),
    y: fc.nat({ max: height }),
    s: fc.array(fc.constantFrom("a", "b", " ", "中", "⣿", "█", "🔥"), { maxLength: 6 })
      .map((a) => a.join("")),
    style: fc.constantFrom(...STYLES),
  });
  return fc.array(write, { maxLength: 25 }).map((ws) => {
    const b = new ScreenBuffer(width, height);
    for (const w of ws) b.text(w.x, w.y, w.s, w.style);
    return b;
  });
}

const arbPair = fc.record({ w: fc.integer({ min: 1, max: 9 }), h: fc.integer({ min: 1, max: 4 }) })
  .chain(({ w, h }) =>
    fc.tuple(
      arbBuffer(w, h),
      fc.oneof(arbBuffer(w, h), arbBuffer(w + 1, h), arbBuffer(w, h + 1)),
      fc.boolean(),
    )
  );

Deno.test("renderDiff() applied to a terminal showing prev makes it show next", () => {
  fc.assert(
    fc.property(arbPair, ([prev, next, color]) => {
      const vt = new VirtualTerminal(prev.width, prev.height);
      vt.write("\x1b[1;31;48;5;100m"); // whatever attributes a previous program left
      vt.write(renderDiff(null, prev, color));
      assertShows(vt, prev, color);
      // a resize leaves the terminal's contents undefined: start from junk
      const after = next.width === prev.width && next.height === prev.height
        ? vt
        : new VirtualTerminal(next.width, next.height);
      const out = renderDiff(prev, next, color);
      after.write(out);
      assertShows(after, next, color);
      if (after === vt) assert.ok(!out.includes("\x1b[2J"), "no full clear for a same-size frame");
    }),
    { numRuns: 500 },
  );
});

Deno.test("renderDiff() leaves the attributes reset after every frame", () => {
  fc.assert(
    fc.property(arbPair, ([prev, next, color]) => {
      const out = renderDiff(prev, next, color);
      // deno-lint-ignore no-control-regex
      const sgrs = [...out.matchAll(/\x1b\[([0-9;]*)m/g)];
      const last = sgrs.at(-1);
      if (last) assert.equal(last[1], "0");
    }),
  );
});

Deno.test("renderDiff() of one changed cell is a move, a style and the character", () => {
  const prev = new ScreenBuffer(80, 24);
  prev.text(0, 0, "step 100 loss 3.21");
  const next = new ScreenBuffer(80, 24);
  next.text(0, 0, "step 100 loss 3.21");
  next.text(33, 11, "x", STYLE.red);
  const out = renderDiff(prev, next, true);
  assert.equal(out, "\x1b[12;34H\x1b[31mx\x1b[0m");
  assert.ok(new TextEncoder().encode(out).length < 20);
  next.text(33, 11, "⣿", STYLE.default);
  assert.equal(renderDiff(prev, next, true), "\x1b[12;34H⣿");
});

Deno.test("renderDiff() writes nothing when nothing changed", () => {
  const a = new ScreenBuffer(10, 3);
  a.text(1, 1, "same", STYLE.bold);
  const b = new ScreenBuffer(10, 3);
  b.text(1, 1, "same", STYLE.bold);
  assert.equal(renderDiff(a, b, true), "");
  assert.equal(renderDiff(a, a, false), "");
});

Deno.test("renderDiff() moves the cursor once per run and sets the style once per change", () => {
  const prev = new ScreenBuffer(20, 3);
  const next = new ScreenBuffer(20, 3);
  next.text(2, 1, "abc", STYLE.green);
  next.text(5, 1, "de", STYLE.green | STYLE.bold);
  next.text(10, 1, "f", STYLE.green | STYLE.bold);
  next.text(0, 2, "中z");
  assert.equal(
    renderDiff(prev, next, true),
    "\x1b[2;3H\x1b[32mabc\x1b[0;1;32mde\x1b[2;11Hf\x1b[3H\x1b[0m中z",
  );
});

Deno.test("renderDiff() moves the cursor after writing the last column", () => {
  const prev = new ScreenBuffer(4, 2);
  const next = new ScreenBuffer(4, 2);
  next.text(2, 0, "ab");
  next.text(0, 1, "c");
  assert.equal(renderDiff(prev, next, false), "\x1b[1;3Hab\x1b[2Hc");
});

Deno.test("renderDiff() paints everything after one clear for a first frame or a resize", () => {
  const next = new ScreenBuffer(6, 2);
  next.text(0, 0, "hi");
  next.text(3, 1, "x", STYLE.reverse);
  const first = renderDiff(null, next, true);
  assert.equal(first, "\x1b[0m\x1b[2J\x1b[Hhi\x1b[2;4H\x1b[7mx\x1b[0m");
  assert.equal(renderDiff(new ScreenBuffer(7, 2), next, true), first);
  assert.equal(renderDiff(new ScreenBuffer(6, 3), next, true), first);
});

Deno.test("renderDiff() without colour ignores colour-only changes but not reverse", () => {
  const prev = new ScreenBuffer(5, 1);
  prev.text(0, 0, "ab", STYLE.red);
  const next = new ScreenBuffer(5, 1);
  next.text(0, 0, "ab", STYLE.green | heat(1));
  assert.equal(renderDiff(prev, next, false), "");
  assert.notEqual(renderDiff(prev, next, true), "");
  next.text(1, 0, "b", STYLE.reverse);
  assert.equal(renderDiff(prev, next, false), "\x1b[1;2H\x1b[7mb\x1b[0m");
});

Deno.test("renderDiff() rewrites a wide character replaced by narrow ones and back", () => {
  const wide = new ScreenBuffer(4, 1);
  wide.text(0, 0, "a中");
  const narrow = new ScreenBuffer(4, 1);
  narrow.text(0, 0, "axy");
  assert.equal(renderDiff(wide, narrow, false), "\x1b[1;2Hxy");
  assert.equal(renderDiff(narrow, wide, false), "\x1b[1;2H中");
});
