/**
 * `plan`-style advice at the start of a run, computed with the same engine: a configuration
 * that cannot fit (and the micro-batch that would, at the same global batch), GPU memory left
 * idle (and what a larger micro-batch would gain), a data loader that starves the GPU.
 */
import { evaluateLayout } from "../engine/layout.ts";
import type { Candidate } from "../engine/layout.ts";
import { GIB } from "../engine/memory.ts";
import type { Scenario } from "../engine/scenario.ts";
import { withDataLoader, WORKER_TOKENS_PER_S } from "../engine/train_scenario.ts";
import type { HiddenConfig } from "../engine/types.ts";
import { fixed } from "../render/format.ts";

function evaluate(cfg: HiddenConfig, microBatch: number, workers: number): Candidate {
  const c = evaluateLayout({
    arch: cfg.arch,
    gpu: cfg.gpu,
    gpus: cfg.gpus,
    precision: cfg.precision,
    framework: cfg.framework,
    seqLen: cfg.seqLen,
    globalBatch: cfg.globalBatch,
  }, { ...cfg.layout, microBatch });
  return { ...c, perf: withDataLoader(c.perf, workers, cfg.gpus) };
}

function gib(bytes: number): string {
  return `${fixed(bytes / GIB, 1)} GiB`;
}

/** Advice for a run of scenario `s` fed by `workers` DataLoader workers (none: all is well). */
export function guidance(s: Scenario, workers: number): string[] {
  const cfg = s.config;
  const c = s.candidate;
  const mb = cfg.layout.microBatch;
  const accum = cfg.globalBatch / (cfg.layout.dp * mb);
  const cap = cfg.gpu.capacityGiB * GIB;
  const where = cfg.gpu.vendor === "cpu" ? "host memory" : "per GPU";
  const out: string[] = [];
  if (!c.memory.fits) {
    for (let k = 2; mb / k >= 1 && Number.isInteger(mb / k); k *= 2) {
      const smaller = evaluate(cfg, mb / k, workers);
      if (smaller.memory.fits) {
        out.push(
          `does not fit: ${gib(c.memory.worst.reserved)} of ${gib(cap)} ${where}; ` +
            `--batch-size ${mb / k} --grad-accum ${
              accum * k
            } keeps the batch of ${cfg.globalBatch} and fits (${
              gib(smaller.memory.worst.reserved)
            })`,
        );
        return out;
      }
    }
    out.push(
      `does not fit: ${gib(c.memory.worst.reserved)} of ${
        gib(cap)
      } ${where}, even one sample at a time; ` +
        `a smaller model, a shorter --seq-len or a larger device would (llm-sim plan shows the parts)`,
    );
    return out;
  }
  const used = c.memory.worst.reserved / cap;
  if (used < 0.45 && accum % 2 === 0) {
    const bigger = evaluate(cfg, mb * 2, workers);
    const gain = c.perf.stepSeconds / bigger.perf.stepSeconds - 1;
    if (bigger.memory.fits && gain > 0.03) {
      out.push(
        `${fixed(100 * used, 0)} % of ${where} memory in use: --batch-size ${mb * 2} --grad-accum ${
          accum / 2
        } keeps the batch, fits (${gib(bigger.memory.worst.reserved)}) and trains ${
          fixed(100 * gain, 0)
        } % faster`,
      );
    }
  }
  const unfed = evaluate(cfg, mb, 1024);
  const stall = c.perf.stepSeconds - unfed.perf.stepSeconds;
  if (stall > 0.02 * c.perf.stepSeconds) {
    const need = Math.ceil(
      c.perf.tokensPerStep / cfg.gpus / (WORKER_TOKENS_PER_S * unfed.perf.stepSeconds),
    );
    out.push(
      `the input pipeline stalls every step by ${fixed(stall * 1000, 0)} ms of ${
        fixed(c.perf.stepSeconds * 1000, 0)
      }: --workers ${need} would keep the ${cfg.gpu.vendor === "cpu" ? "CPU" : "GPU"} fed`,
    );
  }
  return out;
}
