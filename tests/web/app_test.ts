import assert from "node:assert/strict";
import { SHOW_HELP } from "../../lib/cli/usage.ts";
import { HIDE_CURSOR } from "../../lib/term/ansi.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import { type PageEnv, playPage, WEB_HELP } from "../../lib/web/app.ts";
import { XtermTerminal } from "../../lib/web/xterm_terminal.ts";
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
  assert.equal(help.text, WEB_HELP + SHOW_HELP);
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

Deno.test("XtermTerminal follows the xterm's size unless a width is fixed, within 20–400", () => {
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
  term.width = 100;
  assert.equal(term.columns, 100);
  term.write("a\n");
  assert.deepEqual(written, ["a\n"]);
});
