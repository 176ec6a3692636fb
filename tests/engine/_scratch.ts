import { MODELS, GPUS } from "../../lib/data.ts";
import { paramCount, tensors, trainingFlopsPerToken } from "../../lib/engine/arch.ts";
import { shardPlan } from "../../lib/engine/artifacts.ts";
import { buildScenario, isInfeasible } from "../../lib/engine/scenario.ts";
for (const m of MODELS) {
  const c = paramCount(m.arch);
  console.log(m.id, c.total === m.params ? "OK" : `MISMATCH ${c.total} vs ${m.params}`, c.matmulActive <= c.active && c.active <= c.total);
}
const l8 = MODELS.find((m) => m.id === "llama-3.1-8b")!;
console.log(trainingFlopsPerToken(l8.arch, 8192));
console.log(trainingFlopsPerToken(MODELS.find((m) => m.id === "llama-3.1-405b")!.arch, 8192));
for (const id of ["llama-3.1-8b", "llama-3.2-3b", "gpt2", "deepseek-v3"]) {
  const p = shardPlan(MODELS.find((m) => m.id === id)!.arch);
  console.log(id, p.totalSize, p.shards.map((s) => s.bytes / 1e9));
}
let t0 = performance.now();
for (let s = 0; s < 50; s++) {
  const r = buildScenario({ seed: s });
  if (isInfeasible(r)) console.log(s, "INF", r.reason);
  else console.log(s, r.config.kind, r.config.model.id, r.config.gpu.id, r.config.gpus, r.config.precision, r.config.framework, r.config.startStep, r.config.endStep, r.candidate.perf.mfu.toFixed(3));
}
console.log("ms", performance.now() - t0);
