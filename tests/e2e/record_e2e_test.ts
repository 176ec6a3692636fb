/**
 * `--record FILE`, end to end: refused without --allow-write=FILE; with it, an asciicast v2 file
 * whose output is exactly what the show printed (the golden of the seed), timed by the
 * simulated clock, so an --instant run records a cast that plays at real-time pace.
 */
import assert from "node:assert/strict";
import { castOutput, parseCast } from "../../lib/term/cast.ts";
import { GOLDEN_START } from "../_golden.ts";
import { expectedShow } from "../_show.ts";
import { runMain } from "./_run.ts";

const SHOW = ["--seed", "26", "--instant", "--exit-after-runs", "1", "--start-time", GOLDEN_START];

Deno.test("llm-sim --record without --allow-write refuses in one line naming the flag (exit 2)", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/demo.cast`;
  try {
    const r = await runMain([...SHOW, "--record", file]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "", "nothing played");
    assert.equal(
      r.stderr,
      `llm-sim: --record ${file} needs --allow-write=${file} (deno run --allow-write=${file} main.ts … --record ${file})\n`,
    );
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("llm-sim --record leaves files alone when the show refuses its configuration", async () => {
  const dir = await Deno.makeTempDir();
  const old = `${dir}/old.cast`, fresh = `${dir}/new.cast`;
  try {
    await Deno.writeTextFile(old, "a recording to keep\n");
    for (const file of [old, fresh]) {
      // at the pace of the clock too (not --instant): refused before anything plays
      const r = await runMain(["--seed", "26", "--gpus", "3", "--record", file], {
        denoFlags: [`--allow-write=${file}`],
      });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^llm-sim: /);
    }
    assert.equal(await Deno.readTextFile(old), "a recording to keep\n");
    await assert.rejects(Deno.stat(fresh), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("llm-sim --record /dev/null records into nothing without an error", async () => {
  const r = await runMain([...SHOW, "--record", "/dev/null"], {
    denoFlags: ["--allow-write=/dev/null"],
  });
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
});

Deno.test("llm-sim --record writes a valid asciicast v2 that replays to the show's text", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/demo.cast`;
  try {
    // a longer file there before is replaced whole
    await Deno.writeTextFile(file, "x".repeat(1 << 20));
    const r = await runMain([...SHOW, "--width", "80", "--record", file], {
      denoFlags: [`--allow-write=${file}`],
    });
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    const { header, events } = parseCast(await Deno.readTextFile(file));
    assert.equal(header.version, 2);
    assert.equal(header.width, 80);
    assert.equal(header.height, 24);
    assert.equal(header.timestamp, Date.parse(GOLDEN_START) / 1000);
    assert.equal(header.title, "llm-sim --seed 26");
    assert.ok(events.length > 20, `${events.length} events`);
    for (const e of events) assert.equal(e[1], "o");
    // exactly the bytes the terminal got, which are the show's text for this seed and width
    const replay = castOutput(events);
    assert.equal(replay, r.stdout);
    assert.equal(replay, await expectedShow(26, 80));
    // simulated time: the run's minutes, recorded in well under a minute of wall time
    const last = events.at(-1)?.[0] ?? 0;
    assert.ok(last > 60, `the cast lasts the run's simulated time (${last} s)`);
    assert.ok(r.ms < last * 1000, `recorded faster than it plays (${r.ms} ms)`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs/demo.cast, the README's recording, is a valid 100-column asciicast of one run", async () => {
  const text = await Deno.readTextFile(new URL("../../docs/demo.cast", import.meta.url));
  const { header, events } = parseCast(text);
  assert.equal(header.width, 100);
  const out = castOutput(events);
  assert.match(out, /replay: llm-sim --seed \d+ .*--exit-after-runs 1/);
  assert.ok(text.length < 1_000_000, `small enough to commit: ${text.length} bytes`);
});
