/** The warning catalogue applied to a run: which warnings fit it, and their filled-in text. */
import { WARNINGS, type WarningSpec } from "../data.ts";
import { noise } from "../core/rng.ts";
import { glogParts } from "../render/format.ts";
import type { RunContext } from "./context.ts";

/** Tags a run satisfies (the vocabulary of warnings.json `requires`). */
export function runTags(ctx: RunContext): Set<string> {
  const c = ctx.cfg;
  const tags = new Set<string>();
  if (c.gpus > 1) tags.add("multigpu");
  if (c.nodes > 1) tags.add("multinode");
  if (c.precision === "fp16") tags.add("fp16");
  if (c.framework === "torchtitan" || c.framework === "nanogpt") tags.add("compile");
  if (c.framework === "hf") tags.add("hf");
  if (c.framework === "hf" && c.kind === "finetune") tags.add("tokenizer-fork");
  if (c.layout.recompute === "full") tags.add("activation-checkpointing");
  if (c.framework === "deepspeed") tags.add("deepspeed");
  if (c.framework === "nanogpt") tags.add("nanogpt");
  const [major, minor] = c.site.torchVersion.split(".").map(Number);
  if ((major ?? 0) > 2 || ((major ?? 0) === 2 && (minor ?? 0) >= 4)) tags.add("torch-2.4+");
  return tags;
}

/** Catalogued warnings for a moment of the run whose requirements the run meets. */
export function warningsFor(ctx: RunContext, when: WarningSpec["when"]): WarningSpec[] {
  const tags = runTags(ctx);
  return WARNINGS.filter((w) => w.when === when && (w.requires ?? []).every((t) => tags.has(t)));
}

/** torch/distributed/run.py line of the OMP warning, by torch release. */
const RUN_PY_LINE: Record<string, number> = { "2.4": 778, "2.5": 793, "2.6": 792, "2.7": 766 };

export function pythonPaths(ctx: RunContext): { python: string; site: string } {
  const v = ctx.cfg.site.pythonVersion;
  return {
    python: `/usr/bin/python${v}`,
    site: `/usr/local/lib/python${v}/dist-packages`,
  };
}

/**
 * PID of the process of global `rank` in the current worker group: a restart spawns new
 * processes, which get higher PIDs (the old workers' data loaders and compile workers took
 * some in between).
 */
export function workerPid(ctx: RunContext, rank: number): number {
  const gen = ctx.totals.restarts;
  const later = gen === 0
    ? 0
    : gen * 1024 + Math.floor((noise(ctx.cfg.seed, 0x91d, gen) + 1) * 150);
  return ctx.cfg.site.pid + rank + later;
}

/** PID of the torchrun agent of `node`: it started its workers, and outlives their restarts. */
export function agentPid(ctx: RunContext, node: number): number {
  return ctx.cfg.site.pid + node * ctx.cfg.gpusPerNode - 1;
}

/** A glog line of torchrun itself (the launcher or its elastic agent), not of a worker. */
const LAUNCHER = /torch\/distributed\/(?:run\.py|elastic\/)/;

/** Fill the placeholders of a warning for one rank at the current time. */
export function fillWarning(ctx: RunContext, w: WarningSpec, rank = 0): string[] {
  const c = ctx.cfg;
  const now = ctx.clock.now();
  const g = glogParts(now, ctx.tz, Math.floor(now * 7.31 + rank * 7919) % 1000);
  const node = Math.floor(rank / c.gpusPerNode);
  const pid = workerPid(ctx, rank);
  const torch = c.site.torchVersion.split(".").slice(0, 2).join(".");
  const { python, site } = pythonPaths(ctx);
  const values: Record<string, string> = {
    rank: String(rank),
    local_rank: String(rank % c.gpusPerNode),
    mmdd: g.mmdd,
    hms_us: g.hms,
    pid: String(pid),
    tid: String(pid),
    host: ctx.host(node),
    step: String(ctx.sim.step),
    python,
    site,
    torch_line: String(RUN_PY_LINE[torch] ?? 793),
  };
  // torchrun's own lines carry its PID in the glog thread column, the workers' theirs
  const agent = String(agentPid(ctx, node));
  return w.lines.map((l) => {
    const own = LAUNCHER.test(l) ? { ...values, tid: agent } : values;
    return l.replace(/\{(\w+)\}/g, (m, k: string) => own[k] ?? m);
  });
}
