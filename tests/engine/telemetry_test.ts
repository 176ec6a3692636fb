/** GPU telemetry: a node's summary is exactly its GPUs' samples summed up. */
import assert from "node:assert/strict";
import { derivePhysics, RunSim } from "../../lib/engine/run.ts";
import { buildScenario, isInfeasible } from "../../lib/engine/scenario.ts";
import type { Activity } from "../../lib/engine/telemetry.ts";

Deno.test("Telemetry.node() equals the mean, max and sum of its GPUs' samples in every activity", () => {
  let checked = 0;
  for (let seed = 1; seed <= 30 && checked < 4; seed++) {
    const s = buildScenario({ seed, kind: "pretrain" });
    if (isInfeasible(s) || s.config.nodes < 2) continue;
    checked++;
    const cfg = s.config;
    const sim = new RunSim(cfg, derivePhysics(cfg, s.candidate));
    const tel = sim.telemetry;
    const activities: Activity[] = ["idle", "compute", "eval", "checkpoint", "hang", "compute"];
    let t = 1_000_000;
    for (const a of activities) {
      tel.advance(40_000, a, 0.4);
      for (let i = 0; i < 5; i++, t += 7_321) {
        for (const n of [0, cfg.nodes - 1]) {
          const gpus = Array.from(
            { length: cfg.gpusPerNode },
            (_, l) => tel.sample(n * cfg.gpusPerNode + l, t),
          );
          const sum = (f: (x: (typeof gpus)[number]) => number) =>
            gpus.reduce((acc, x) => acc + f(x), 0);
          assert.deepEqual(tel.node(n, t), {
            node: n,
            utilAvg: sum((x) => x.util) / gpus.length,
            memUsedMiBAvg: sum((x) => x.memUsedMiB) / gpus.length,
            tempMaxC: Math.max(...gpus.map((x) => x.tempC)),
            powerW: sum((x) => x.powerW),
          }, `seed ${seed}, ${a}, node ${n}, t ${t}`);
        }
      }
    }
  }
  assert.equal(checked, 4, "enough multi-node runs");
});
