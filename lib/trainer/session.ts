/**
 * One process's share of a training run: the hidden configuration from what the user asked
 * for (or from a checkpoint and `--more-epochs`), then the phases of the show minus the
 * export, with a recorder keeping the run on disk. Pure: the shell brings screen, clock and
 * files.
 */
import type { Clock } from "../core/clock.ts";
import { CPUS, DATASETS, GPUS, type GpuSpec } from "../data.ts";
import type { Dialect } from "../dialects/dialect.ts";
import { derivePhysics, RunSim, type RunState as SimState } from "../engine/run.ts";
import type { Scenario } from "../engine/scenario.ts";
import { extendSchedule } from "../engine/schedule.ts";
import { buildTrainScenario } from "../engine/train_scenario.ts";
import type { HiddenConfig, Precision } from "../engine/types.ts";
import { createRunContext, type Recorder, type RunTotals } from "../phases/context.ts";
import { initPhase } from "../phases/init.ts";
import { summaryPhase } from "../phases/summary.ts";
import { trainingPhase } from "../phases/training.ts";
import type { Screen } from "../term/screen.ts";
import { findModel } from "../cli/catalog.ts";
import type { CheckpointManifest, ResolvedDevice, TrainConfig } from "./types.ts";

/** The catalog entry a resolved device trains on. */
export function deviceSpec(device: ResolvedDevice): GpuSpec {
  const spec = device.kind === "cpu"
    ? CPUS.find((c) => c.id === device.id) ?? CPUS[0]
    : GPUS.find((g) => g.id === device.id);
  if (!spec) throw new Error(`no catalog entry for device ${device.id}`);
  return spec;
}

/** The hidden configuration of a new run, or why the data cannot feed it. */
export function trainScenario(
  c: TrainConfig,
  device: ResolvedDevice,
  precision: Precision,
  where: { checkpointDir: string; pid: number },
): Scenario | { reason: string } {
  const choice = findModel(c.model);
  const dataset = DATASETS.find((d) => d.id === c.dataset);
  if (!choice || !dataset) {
    throw new Error(`unresolved model or dataset: ${c.model}, ${c.dataset}`);
  }
  return buildTrainScenario({
    seed: c.seed,
    model: choice.model,
    ...(choice.displayName ? { displayName: choice.displayName } : {}),
    dataset,
    gpu: deviceSpec(device),
    gpus: device.count,
    precision,
    seqLen: c.seqLen,
    microBatch: c.batchSize,
    gradAccum: c.gradAccum,
    workers: c.workers,
    epochs: c.epochs,
    lr: { peak: c.lr, min: c.minLr, warmupSteps: c.warmupSteps, decay: c.schedule },
    evalEvery: c.evalEvery,
    saveEvery: c.saveEvery,
    checkpointDir: where.checkpointDir,
    user: "",
    pid: where.pid,
  });
}

/**
 * The configuration of a run resumed from `m` for exactly `moreEpochs` more epochs: it starts
 * at the checkpoint's step, the LR decays on from where it stood, and the epoch count grows.
 */
export function resumedConfig(
  cfg: HiddenConfig,
  m: CheckpointManifest,
  moreEpochs: number,
): HiddenConfig {
  const perEpoch = cfg.samplesPerEpoch / cfg.globalBatch;
  const endStep = m.step + moreEpochs * perEpoch;
  return {
    ...cfg,
    startStep: m.step,
    endStep,
    totalSteps: endStep,
    epochs: Math.ceil(endStep / perEpoch),
    lr: extendSchedule(m.lr, m.step, endStep),
  };
}

/** Play the run from its configuration (and engine state, when resuming) to its end. */
export async function playTrain(opts: {
  scenario: Scenario;
  dialect: Dialect;
  recorder: Recorder;
  screen: Screen;
  clock: Clock;
  tz: number;
  /** The engine's state at the checkpoint a resume starts from. */
  restore?: SimState;
}): Promise<RunTotals["outcome"]> {
  const { config: cfg, candidate } = opts.scenario;
  const physics = derivePhysics(cfg, candidate);
  const ctx = createRunContext({
    screen: opts.screen,
    clock: opts.clock,
    cfg,
    physics,
    sim: new RunSim(cfg, physics, opts.restore),
    dialect: opts.dialect,
    runIndex: 1,
    tz: opts.tz,
    replay: "",
    recorder: opts.recorder,
  });
  for (const phase of [initPhase, trainingPhase, summaryPhase]) await phase.run(ctx);
  return ctx.totals.outcome;
}
