import { buildScenario, isInfeasible } from "../../lib/engine/scenario.ts";
import { derivePhysics, RunSim } from "../../lib/engine/run.ts";
for (const seed of [0, 3, 8, 9]) {
  const sc = buildScenario({ seed });
  if (isInfeasible(sc)) continue;
  const ph = derivePhysics(sc.config, sc.candidate);
  const a = new RunSim(sc.config, ph);
  for (let i = 0; i < 10; i++) a.next();
  const st = structuredClone(a.state());
  const b = new RunSim(sc.config, ph, st);
  for (let i = 0; i < 3; i++) {
    const x = a.next(), y = b.next();
    console.log(seed, x.step, y.step, x.loss, y.loss, x.stepMs.toFixed(1), y.stepMs.toFixed(1));
  }
}
