/** The monitor's screens at 80×24 and 160×48 for fixed states, byte for byte. */
import assert from "node:assert/strict";
import { parseKeys } from "../../lib/tui/keys.ts";
import { initialState, type MonitorState, update, withRuns } from "../../lib/tui/monitor.ts";
import { renderMonitor } from "../../lib/tui/monitor_view.ts";
import { assertGolden } from "../_golden.ts";
import { completedRun, fixture, NOW } from "./_monitor_fixture.ts";

function press(s: MonitorState, keys: string): MonitorState {
  for (const k of parseKeys(keys)) s = update(s, k).state;
  return s;
}

function screen(s: MonitorState): string {
  const lines = renderMonitor(s).lines();
  assert.equal(lines.length, s.height);
  for (const l of lines) assert.ok([...l].length <= s.width, `wider than ${s.width}: ${l}`);
  return lines.join("\n") + "\n";
}

for (const [w, h] of [[80, 24], [160, 48]] as const) {
  Deno.test(`monitor screens at ${w}×${h}: runs, form, confirmation, help, generated text, empty`, async () => {
    const s = await fixture(w, h);
    const screens = [
      ["runs", s],
      ["completed run selected", { ...press(s, "j"), ...completedRun! }],
      ["broken run selected", press(s, "jj")],
      ["launch form with an error", press(s, "n\x1b[B\x1b[B\x7fx")],
      ["launch confirmation", press(s, "n\r")],
      ["help", press(s, "?")],
      [
        "generated text",
        {
          ...press(s, "jgCall me\r\r"),
          output: {
            runId: s.runs[1]!.id,
            text:
              "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money",
            running: false,
            stats: "[16 tokens in 0.05 s, 334.1 tokens/s · prompt 2 tokens in 2.2 ms]",
          },
        },
      ],
      ["no runs", withRuns(initialState({ ...s, now: NOW }), [], "No runs directory at runs yet.")],
    ] as const;
    const text = screens.map(([name, st]) => `== ${name}\n${screen(st)}`).join("");
    await assertGolden(`monitor-${w}x${h}.txt`, text);
  });
}

Deno.test("renderMonitor(): no text runs over a panel's border, empty or full, at any size", async () => {
  for (const [w, h] of [[80, 24], [100, 30], [119, 40], [120, 40], [200, 60]] as const) {
    const full = await fixture(w, h);
    const empty = withRuns(initialState({ ...full, now: NOW }), [], "No runs directory at runs.");
    for (const s of [full, empty]) {
      const rows = renderMonitor(s).lines();
      // every row between the header and the footer starts on a border and ends on one
      for (let y = 1; y < h - 1; y++) {
        assert.match(rows[y]!, /^[│┌└]/, `${w}×${h} row ${y}: ${rows[y]}`);
        assert.match(rows[y]!.trimEnd(), /[│┐┘]$/, `${w}×${h} row ${y}: ${rows[y]}`);
      }
      // a bottom border is border all the way (nothing written over it)
      for (const row of rows.filter((r) => r.startsWith("└"))) {
        const box = row.slice(0, row.indexOf("┘") + 1);
        assert.match(box, /^└─+┘$/, `${w}×${h}: ${row}`);
      }
    }
  }
});
