/**
 * Export to Hugging Face safetensors: shards of at most 5 GB split in state-dict order, the
 * index, config and tokenizer files, each written at one node's storage bandwidth. Only a run
 * that finished exports; a window onto a long run ends at its checkpoint, a failed one at the
 * error.
 */
import { TOKENIZERS } from "../data.ts";
import { companionFiles, shardPlan } from "../engine/artifacts.ts";
import { play, type RunContext, say } from "./context.ts";
import type { Phase } from "./phase.ts";

/** Bytes per second one node writes safetensors at. */
const EXPORT_WRITE_BPS = 1.6e9;

export const exportPhase: Phase = {
  name: "export",
  async run(ctx: RunContext): Promise<void> {
    const o = ctx.totals.outcome;
    if (o === "window" || o === "oom" || o === "failed") return;
    const { cfg, dialect: d, clock } = ctx;
    const bytes = cfg.precision === "fp32" ? 4 : 2;
    const plan = shardPlan(cfg.arch, bytes);
    await play(ctx, d.exportStart(ctx, plan));
    for (const s of plan.shards) {
      const ms = (s.bytes / EXPORT_WRITE_BPS) * 1000 + 80;
      ctx.sim.idle(ms, "checkpoint");
      await clock.sleep(ms);
      const shard = d.exportFile(ctx, s.name, s.bytes);
      say(ctx, shard);
    }
    const tok = TOKENIZERS.find((t) => t.id === cfg.model.tokenizer) ?? TOKENIZERS[0]!;
    const extra = [
      ...(plan.index ? [plan.index] : []),
      ...companionFiles(cfg.model, tok, bytes === 4 ? "float32" : "bfloat16"),
    ];
    for (const f of extra) {
      await clock.sleep(60);
      const file = d.exportFile(ctx, f.name, f.bytes);
      say(ctx, file);
    }
    ctx.totals.exportDir = cfg.site.exportDir;
    await play(ctx, d.exportDone(ctx, plan));
  },
};
