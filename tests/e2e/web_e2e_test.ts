/**
 * The show in a browser, end to end: `buildWeb()` (what `deno task build:web` runs) into a
 * temporary folder, served on 127.0.0.1 and opened in headless Chromium (Debian's package,
 * driven by playwright-core with executablePath, in its own process: _browser.ts). The xterm.js
 * buffer must hold the seed's init phase and training lines as the command line prints them,
 * re-lay out when the window shrinks, and show a bad option as one line; screenshots go to
 * tests/artifacts/. Without Chromium the test is skipped and says why (.ci/run installs it).
 */
import assert from "node:assert/strict";
import { buildWeb } from "../../web/build.ts";
import { expectedShow } from "../_show.ts";
import type { BrowserReport } from "./_browser.ts";
import { DENO } from "./_run.ts";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

function findChromium(): string | null {
  for (const path of CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return null;
}

const CHROMIUM = findChromium();
const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
const DRIVER = new URL("./_browser.ts", import.meta.url).pathname;

/** A line as a terminal shows it: tabs to the next multiple of 8 columns. */
function expandTabs(line: string): string {
  let out = "";
  for (const ch of line) out += ch === "\t" ? " ".repeat(8 - (out.length % 8)) : ch;
  return out;
}

/**
 * The expected lines the page must show in order: progress bars (drawn in place on a live
 * terminal, so laid out differently from a pipe) and their wrapped tails left out.
 */
function comparable(text: string, columns: number): string[] {
  const out: string[] = [];
  let skipped: string | null = null;
  for (const line of text.split("\n")) {
    const tail = skipped !== null && skipped.length === columns;
    if (line.includes("█") || tail) {
      skipped = line;
      continue;
    }
    skipped = null;
    out.push(expandTabs(line).trimEnd());
  }
  return out;
}

Deno.test({
  name: CHROMIUM
    ? "the web build plays the show in headless Chromium: init phase and training lines of the seed"
    : `the web build in a browser (skipped: no Chromium at ${
      CANDIDATES.join(", ")
    }; apt-get install chromium)`,
  ignore: CHROMIUM === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "llm-sim-web-" });
    try {
      const build = await buildWeb({ outDir: dir });
      assert.ok(build.bundleBytes > 100_000, "xterm.js is inside the bundle");
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      const run = await new Deno.Command(DENO, {
        args: ["run", "-A", DRIVER, CHROMIUM as string, dir, ARTIFACTS],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, `the browser driver failed:\n${err}`);
      const report = JSON.parse(new TextDecoder().decode(run.stdout)) as BrowserReport;
      assert.deepEqual(report.pageErrors, []);

      // 1. Instant at 100 columns: the whole run, line for line as the command line prints it.
      const { instant } = report;
      assert.equal(instant.error, null);
      assert.equal(instant.outcome, "done");
      assert.ok(instant.cols >= 100, `the window fits 100 columns (got ${instant.cols})`);
      const expected = await expectedShow(26, 100);
      const got = instant.lines.map((l) => l.text.trimEnd());
      // the init phase: nvidia-smi, then the launch command, exactly at the top
      const init = expected.split("\n").slice(0, 30).map((l) => expandTabs(l).trimEnd());
      assert.match(init.join("\n"), /NVIDIA-SMI [\d.]+ +Driver Version/);
      assert.match(init.join("\n"), /torchrun --nproc_per_node=1/);
      assert.deepEqual(got.slice(0, init.length), init);
      // a training line of this seed (HF Trainer's log dict), and then every line, in order
      const want = comparable(expected, 100);
      const train = want.find((l) => /^\{'loss': \d/.test(l));
      assert.ok(train, "the seed's run logs training lines");
      assert.ok(got.includes(train), `training line missing from the page: ${train}`);
      let at = 0;
      for (const line of want) {
        const k = got.indexOf(line, at);
        assert.ok(k >= 0, `line missing from the page (or out of order): ${JSON.stringify(line)}`);
        at = k + 1;
      }

      // 2. Real time (speed 100), fitted to the window, which shrinks mid-run.
      const { colsBefore, after } = report.resized;
      assert.equal(after.outcome, "done");
      assert.ok(
        after.cols < colsBefore && after.cols >= 60,
        `re-fitted: ${colsBefore} → ${after.cols}`,
      );
      const tail = after.lines.filter((l) => l.text !== "").slice(-12);
      assert.match(tail.at(-1)?.text ?? "", /^replay: llm-sim --seed 26 --exit-after-runs 1/);
      for (const l of tail) {
        assert.equal(l.wrapped, false, `laid out for the new width, not wrapped: ${l.text}`);
        assert.ok(l.text.length <= after.cols);
      }
      assert.ok(after.lines.some((l) => /^\{'loss': \d/.test(l.text)), "training lines");

      // An endless --instant show keeps playing: no overflow of xterm.js's write queue.
      assert.equal(report.endless.error, null);
      assert.notEqual(report.endless.at10s, "", "step lines on screen");
      assert.notEqual(report.endless.at10s, report.endless.at5s, "still moving after 10 s");

      // The static server: the page; nothing outside its folder; no 500 on a broken escape.
      const { escape, ...served } = report.served;
      assert.deepEqual(served, { page: 200, malformed: 400, missing: 404 });
      assert.ok(escape === 400 || escape === 404, `../../deno.json: ${escape}`);

      // 3. A bad option: one red line, nothing played.
      assert.equal(report.bad.outcome, "usage");
      assert.deepEqual(report.bad.lines.map((l) => l.text).filter((t) => t !== ""), [
        "llm-sim: --seed must be a whole number from 0 to 4294967295, not 'banana'",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
