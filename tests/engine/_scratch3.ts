import { MODELS, GPUS } from "../../lib/data.ts";
import { buildScenario, isInfeasible } from "../../lib/engine/scenario.ts";
import { PRECISIONS } from "../../lib/engine/types.ts";
const m = MODELS.find((m) => m.id === "deepseek-v3")!;
let total = 0;
for (const g of GPUS) for (const kind of ["pretrain", "finetune"] as const) for (const precision of [undefined, ...PRECISIONS]) {
  const t0 = performance.now();
  const r = buildScenario({ seed: 1, model: m, gpu: g, kind, ...(precision ? { precision } : {}) });
  const dt = performance.now() - t0; total += dt;
  if (dt > 300) console.log(g.id, kind, precision, dt.toFixed(0), isInfeasible(r) ? "INF" : r.config.gpus);
}
console.log("total", total);
