import assert from "node:assert/strict";
import { SHOW_HELP } from "../../lib/cli/usage.ts";
import { HIDE_CURSOR } from "../../lib/term/ansi.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import { type PageEnv, playPage, webHelp } from "../../lib/web/app.ts";
import { BACKLOG_HIGH, XtermTerminal } from "../../lib/web/xterm_terminal.ts";
import { GOLDEN_START } from "../_golden.ts";

const ENV: PageEnv = {
  wallNow: () => Date.parse(GOLDEN_START),
  realNow: () => performance.now(),
  randomSeed: () => 26,
  tz: () => 0,
};

Deno.test("playPage() plays the seed's run, byte for byte the golden the command line prints", async () => {
  const term = new MemoryTerminal({ columns: 80, color: false, live: false });
  const outcome = await playPage(
    `?seed=26&instant&exit-after-runs=1&start-time=${GOLDEN_START}`,
    term,
    ENV,
  );
  assert.equal(outcome, "done");
  const golden = await Deno.readTextFile(new URL("../golden/show-seed26-w80.txt", import.meta.url));
  assert.equal(term.text, HIDE_CURSOR + golden);
});

Deno.test("playPage() takes the seed from the environment when the URL has none", async () => {
  const a = new MemoryTerminal({ columns: 80 });
  const b = new MemoryTerminal({ columns: 80 });
  await playPage("?instant&exit-after-runs=1", a, ENV);
  await playPage("?seed=26&instant&exit-after-runs=1", b, ENV);
  assert.equal(a.text, b.text);
});

Deno.test("playPage() shows a bad option as one red line and plays nothing", async () => {
  const term = new MemoryTerminal({ columns: 80, color: true, live: true });
  const reported: unknown[] = [];
  const outcome = await playPage("?gpus=12", term, { ...ENV, onConfig: (c) => reported.push(c) });
  assert.equal(outcome, "usage");
  assert.equal(
    term.text,
    "\x1b[31mllm-sim: --gpus must be 1–8 or a multiple of 8 (whole nodes of 8), not 12\x1b[0m\n",
  );
  assert.deepEqual(reported, []);
});

Deno.test("playPage() prints help, the version and the catalogs instead of a show", async () => {
  const help = new MemoryTerminal();
  assert.equal(await playPage("?help", help, ENV), "info");
  assert.equal(help.text, webHelp(SHOW_HELP));
  // the flags as address options, aligned as the command line's; none a page cannot use
  assert.match(help.text, /^ {2}seed=N {21}replay: the same seed plays the same runs/m);
  assert.match(help.text, /^ {2}instant {20}no pauses/m);
  assert.match(help.text, /\(see list=models\)/);
  assert.doesNotMatch(help.text, /record|--|Ctrl-C|llm-sim plan|-h, /);
  const flags = SHOW_HELP.slice(SHOW_HELP.indexOf("Flags:"));
  for (const line of flags.split("\n").filter((l) => /^ {29}\S/.test(l))) {
    if (!/asciicast|allow-write/.test(line)) assert.ok(help.text.includes(`${line}\n`), line);
  }
  const version = new MemoryTerminal();
  await playPage("?version", version, ENV);
  assert.match(version.text, /^llm-sim \d+\.\d+\.\d+\n$/);
  const list = new MemoryTerminal();
  await playPage("?list=gpus", list, ENV);
  assert.match(list.text, /h100/);
});

Deno.test("playPage() stops at the page's signal; --exit-after-time too", async () => {
  const controller = new AbortController();
  const term = new MemoryTerminal({ columns: 80 });
  const p = playPage("?seed=26&speed=1", term, { ...ENV, signal: controller.signal });
  await new Promise((r) => setTimeout(r, 30));
  controller.abort();
  assert.equal(await p, "stopped");
  const timed = await playPage("?seed=26&exit-after-time=1s", new MemoryTerminal(), ENV);
  assert.equal(timed, "stopped");
});

Deno.test("XtermTerminal follows the xterm's size; a fixed width narrows it, within 20–400", () => {
  const written: string[] = [];
  const xterm = { cols: 132, rows: 40, write: (s: string) => void written.push(s) };
  const term = new XtermTerminal(xterm);
  assert.equal(term.columns, 132);
  assert.equal(term.rows, 40);
  assert.equal(term.live, true);
  assert.equal(term.color, true);
  xterm.cols = 90;
  assert.equal(term.columns, 90);
  xterm.cols = 5;
  assert.equal(term.columns, 20);
  xterm.cols = 132;
  term.width = 100;
  assert.equal(term.columns, 100);
  term.width = 200;
  assert.equal(term.columns, 132, "never wider than the xterm: lines would wrap");
  term.write("a\n");
  assert.deepEqual(written, ["a\n"]);
});

/** An xterm that parses what it was given only when told to, like xterm.js's write queue. */
function slowXterm() {
  const queue: (() => void)[] = [];
  return {
    cols: 100,
    rows: 30,
    parsed: 0,
    /** Characters waiting to be parsed, and the most there ever were. */
    queued: 0,
    peak: 0,
    write(s: string, done?: () => void) {
      this.queued += s.length;
      this.peak = Math.max(this.peak, this.queued);
      queue.push(() => {
        this.parsed += s.length;
        this.queued -= s.length;
        done?.();
      });
    },
    /** Parse everything queued so far. */
    flush() {
      for (const f of queue.splice(0)) f();
    },
  };
}

Deno.test("XtermTerminal.drain() holds the writer back while more than a megabyte waits to be parsed", async () => {
  const xterm = slowXterm();
  const term = new XtermTerminal(xterm);
  term.write("x".repeat(BACKLOG_HIGH));
  assert.equal(term.drain(), null, "at the mark: no wait");
  term.write("y");
  const wait = term.drain();
  assert.ok(wait instanceof Promise);
  assert.equal(term.drain(), wait, "one wait for all");
  let resumed = false;
  void wait.then(() => (resumed = true));
  await Promise.resolve();
  assert.equal(resumed, false);
  xterm.flush();
  await wait;
  assert.equal(term.backlog, 0);
  assert.equal(term.drain(), null);
});

Deno.test("playPage() --instant waits for a slow terminal instead of outrunning it", async () => {
  const xterm = slowXterm();
  const high = 16_384;
  const term = new XtermTerminal(xterm, { high, low: 4096 });
  term.color = false;
  const pump = setInterval(() => xterm.flush(), 1);
  try {
    const outcome = await playPage("?seed=26&instant&exit-after-runs=2", term, {
      ...ENV,
      drain: () => term.drain(),
    });
    assert.equal(outcome, "done");
  } finally {
    clearInterval(pump);
  }
  xterm.flush();
  assert.ok(xterm.parsed > 5 * high, `a show longer than the mark: ${xterm.parsed}`);
  // a pause may carry one more step's output past the mark, never a run's worth
  assert.ok(xterm.peak < 2 * high, `backlog peaked at ${xterm.peak}`);
});
