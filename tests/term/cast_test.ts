import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/core/clock.ts";
import { castOutput, CastRecorder, parseCast } from "../../lib/term/cast.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import type { Terminal } from "../../lib/term/terminal.ts";

const START = Date.parse("2026-11-26T09:00:00Z");

function recorder(inner: Terminal, clock: VirtualClock) {
  const lines: string[] = [];
  const rec = new CastRecorder(inner, {
    now: () => clock.now(),
    sink: (l) => void lines.push(l),
    title: "llm-sim --seed 7",
  });
  return { rec, text: () => lines.join("") };
}

Deno.test("CastRecorder writes an asciicast v2 header from the terminal and the clock", () => {
  const clock = new VirtualClock(START + 400);
  const { text } = recorder(new MemoryTerminal({ columns: 100, rows: 30 }), clock);
  assert.deepEqual(JSON.parse(text()), {
    version: 2,
    width: 100,
    height: 30,
    timestamp: Math.floor((START + 400) / 1000),
    title: "llm-sim --seed 7",
  });
});

Deno.test("CastRecorder times events by the clock and merges writes made at one time", async () => {
  const clock = new VirtualClock(START);
  const inner = new MemoryTerminal({ columns: 80, live: true, color: true });
  const { rec, text } = recorder(inner, clock);
  rec.write("a");
  rec.write("\x1b[2Kb\n");
  await clock.sleep(1500);
  rec.write("c\n");
  await clock.sleep(0.25);
  rec.write("");
  rec.write("d\n");
  rec.flush();
  const { events } = parseCast(text());
  assert.deepEqual(events, [
    [0, "o", "a\x1b[2Kb\r\n"],
    [1.5, "o", "c\r\n"],
    [1.50025, "o", "d\r\n"],
  ]);
  // the inner terminal got every byte, and the cast replays exactly them (a tty's CRLF aside)
  assert.equal(inner.text, "a\x1b[2Kb\nc\nd\n");
  assert.equal(castOutput(events), inner.text);
});

Deno.test("CastRecorder records a change of the terminal's size as an r event", async () => {
  const clock = new VirtualClock(START);
  const inner = { columns: 80, rows: 24, color: false, live: true, write: () => {} };
  const { rec, text } = recorder(inner, clock);
  rec.write("x");
  await clock.sleep(2000);
  inner.columns = 120;
  inner.rows = 40;
  rec.write("y");
  rec.flush();
  assert.deepEqual(parseCast(text()).events, [[0, "o", "x"], [2, "r", "120x40"], [2, "o", "y"]]);
  assert.equal(rec.columns, 120);
});

Deno.test("parseCast() rejects what breaks the v2 format", () => {
  const head = '{"version":2,"width":80,"height":24}\n';
  assert.equal(parseCast(head + '[0,"o","a"]\n[0,"o","b"]\n').events.length, 2);
  assert.throws(() => parseCast('{"version":1,"width":80,"height":24}\n'), /header/);
  assert.throws(() => parseCast('{"version":2,"width":0,"height":24}\n'), /header/);
  assert.throws(() => parseCast(head + '[1,"o","a"]\n[0.5,"o","b"]\n'), /goes back/);
  assert.throws(() => parseCast(head + '[1,"x","a"]\n'), /not an event/);
  assert.throws(() => parseCast(head + '[1,"o"]\n'), /not an event/);
  assert.throws(() => parseCast(head + '[-1,"o","a"]\n'), /not an event/);
  assert.throws(() => parseCast(head + "[1,\n"), SyntaxError);
});
