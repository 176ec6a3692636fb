/**
 * `llm-sim train`'s own trainer: the custom PyTorch trainer of the show (the torchrun dialect),
 * started on one machine, saying which device it picked and why, counting epochs, and saving
 * into the run's directory. CPU runs say so instead of talking about NCCL and GPUs.
 */
import type { CheckpointRecord } from "../engine/run.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { bytesDecimal, commas, fixed } from "../render/format.ts";
import { checkpointFiles } from "../trainer/recorder.ts";
import type { ResolvedDevice } from "../trainer/types.ts";
import { TorchrunDialect } from "./torchrun.ts";

export interface TrainerInfo {
  runId: string;
  /** runs/<id> as the user named the runs directory. */
  runDir: string;
  /** The command as typed, e.g. `llm-sim train --config llm-sim.toml`. */
  command: string;
  device: ResolvedDevice;
  /** Resumed with `--more-epochs N` (0: a new run). */
  moreEpochs: number;
  /** Advice from the engine (does not fit, memory idle, data loader too slow). */
  guidance: string[];
}

export class TrainerDialect extends TorchrunDialect {
  override readonly name = "trainer";
  readonly #info: TrainerInfo;

  constructor(info: TrainerInfo) {
    super();
    this.#info = info;
  }

  protected override memoryLabel(ctx: RunContext): string {
    return this.#info.device.kind === "cpu" ? "Memory (host)" : super.memoryLabel(ctx);
  }

  override launch(ctx: RunContext): Beat[] {
    const i = this.#info;
    const d = i.device;
    const c = ctx.cfg;
    const beats: Beat[] = [
      { wait: 0, text: `$ ${i.command}` },
      this.beat(200, ctx, "train", `Run ${i.runId} · ${i.runDir}`),
    ];
    for (const w of d.warnings) beats.push(this.beat(0, ctx, "device", w, "WARNING"));
    const which = d.kind === "cpu"
      ? `Using cpu (${d.name}) · requested: ${d.requested}`
      : c.nodes > 1
      ? `Using ${d.count} × ${d.name} on ${c.nodes} nodes (${c.gpusPerNode} each, ${
        fixed(c.gpu.capacityGiB, 1)
      } GiB, compute capability ${c.gpu.computeCapability}) · requested: ${d.requested}`
      : `Using ${d.torchDevice}${
        d.count > 1 ? `…cuda:${Number(d.torchDevice.slice(5)) + d.count - 1}` : ""
      } (${d.name}, ${
        fixed(c.gpu.capacityGiB, 1)
      } GiB, compute capability ${c.gpu.computeCapability}) · requested: ${d.requested} · ${d.count} of ${d.available} GPU${
        d.available > 1 ? "s" : ""
      }`;
    beats.push(this.beat(100, ctx, "device", which));
    for (const g of i.guidance) beats.push(this.beat(0, ctx, "guide", g, "WARNING"));
    return beats;
  }

  override distributed(ctx: RunContext): Beat[] {
    // one process on one device needs no process group
    return ctx.cfg.gpus > 1 ? super.distributed(ctx) : [];
  }

  override checkpointStart(ctx: RunContext, dir: string): Beat[] {
    return [this.beat(0, ctx, "ckpt", `Saving checkpoint to ${dir}`)];
  }

  /** The files of this trainer's checkpoint (torch.save of model, optimizer, scheduler, RNG). */
  override checkpointDone(ctx: RunContext, c: CheckpointRecord, dir: string): Beat[] {
    const secs = c.durationMs / 1000;
    const files = checkpointFiles(c).map((f) => `${f.name} (${bytesDecimal(f.bytes)})`);
    return [
      this.beat(
        0,
        ctx,
        "ckpt",
        `Saved ${dir.split("/").pop()} in ${fixed(secs, 1)}s (${
          fixed(c.size.total / 1e9 / secs, 1)
        } GB/s): ${files.join(", ")}`,
      ),
    ];
  }

  override trainStart(ctx: RunContext): Beat[] {
    const c = ctx.cfg;
    const perEpoch = c.samplesPerEpoch / c.globalBatch;
    const msg = c.startStep > 0
      ? `Resuming at step ${commas(c.startStep)} (epoch ${
        fixed(c.startStep / perEpoch, 2)
      }): ${this.#info.moreEpochs} more epoch${this.#info.moreEpochs > 1 ? "s" : ""}, ${
        commas(c.endStep - c.startStep)
      } steps to step ${commas(c.endStep)}`
      : `Starting training: ${c.epochs} epoch${c.epochs > 1 ? "s" : ""} × ${
        commas(perEpoch)
      } steps = ${
        commas(c.totalSteps)
      } steps, log every ${c.logInterval}, eval every ${c.evalInterval}, save every ${c.saveInterval}`;
    return [this.beat(200, ctx, "train", msg)];
  }
}
