/** The monitor's screens at 80×24 and 160×48 for fixed states, byte for byte. */
import assert from "node:assert/strict";
import { parseKeys } from "../../lib/tui/keys.ts";
import { initialState, type MonitorState, update, withRuns } from "../../lib/tui/monitor.ts";
import { RunMetrics } from "../../lib/tui/metrics.ts";
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
        assert.match(rows[y]!, /^[│┌└║╔╚]/, `${w}×${h} row ${y}: ${rows[y]}`);
        assert.match(rows[y]!.trimEnd(), /[│┐┘║╗╝]$/, `${w}×${h} row ${y}: ${rows[y]}`);
      }
      // a bottom border is border all the way (nothing written over it)
      for (const row of rows.filter((r) => /^[└╚]/.test(r))) {
        const box = row.slice(0, row.search(/[┘╝]/) + 1);
        assert.match(box, /^(└─+┘|╚═+╝)$/, `${w}×${h}: ${row}`);
      }
    }
  }
});

Deno.test("renderMonitor(): long run ids keep the suffix that tells them apart", async () => {
  const s = await fixture(80, 24);
  const view = s.runs[0]!.view!;
  const ids = ["a51e", "b7c2"].map((x) => `20261203-165024-deepseek-llm-67b-base-${x}`);
  const runs = ids.map((id) => ({ id, view: { ...view, id }, error: null }));
  const text = renderMonitor(withRuns(s, runs, null)).lines().join("\n");
  assert.match(text, /^║165024-deepseek-ll…-a51e running/m);
  assert.match(text, /^║165024-deepseek-ll…-b7c2 running/m);
});

Deno.test("renderMonitor(): every node of a 64-GPU run shows at 80×24, every GPU when there is room", async () => {
  for (const [w, h, gpus, perGpu] of [[80, 24, 64, false], [160, 48, 16, true]] as const) {
    const s = await fixture(w, h);
    const m = new RunMetrics();
    m.ingest(
      s.metrics!.loss.steps.map((st, i) =>
        JSON.stringify({
          event: "step",
          step: st,
          loss: s.metrics!.loss.values[i],
          lr: 1e-4,
          tokens_per_s: 1e6,
        })
      ).join("\n") + "\n",
      1,
    );
    for (let g = 0; g < gpus; g++) {
      const host = `gn${String(Math.floor(g / 8)).padStart(3, "0")}`;
      m.ingest(
        JSON.stringify({
          event: "gpu",
          host,
          gpu: g % 8,
          rank: g,
          util: 90 + (g % 10),
          mem_used_mib: 40_000,
          mem_total_mib: 81_559,
          temp_c: 60 + (g % 7),
          power_w: 600,
        }) + "\n",
        1,
      );
    }
    const text = renderMonitor({ ...s, metrics: m }).lines().join("\n");
    if (perGpu) {
      assert.doesNotMatch(text, /n000/);
      for (const g of [0, 7, 15]) {
        assert.match(text, new RegExp(`(^|[ │]) ?${g} +9\\d% \\d\\d°C`, "m"));
      }
    } else {
      for (let n = 0; n < gpus / 8; n++) {
        assert.match(text, new RegExp(`n00${n} +9\\d%`), `${w}×${h}: node ${n}`);
      }
    }
    assert.doesNotMatch(text, /more/);
  }
});

Deno.test("renderMonitor(): every evaluation is marked on the chart, also once the loss series thins out", async () => {
  const s = await fixture(120, 40);
  const m = new RunMetrics();
  const lines: string[] = [];
  for (let st = 1; st <= 5000; st++) {
    lines.push(
      JSON.stringify({
        event: "step",
        step: st,
        loss: 10 - st / 1000,
        lr: 1e-4,
        tokens_per_s: 1e6,
      }),
    );
    if (st % 1171 === 0) {
      lines.push(JSON.stringify({ event: "eval", step: st, loss: 10.2 - st / 1000 }));
    }
  }
  m.ingest(lines.join("\n") + "\n", 1);
  assert.ok(m.loss.steps.length < 5000, "the series thinned out");
  const text = renderMonitor({ ...s, metrics: m }).lines().join("\n");
  assert.equal([...text.matchAll(/◆/g)].length, 4 + 1, "four evaluations and the legend");
});
