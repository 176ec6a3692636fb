/** Valid run files for the store tests; each call returns a fresh copy to mutate. */
import { queuedState } from "../../lib/trainer/state.ts";
import type { CheckpointManifest, RunMeta, RunState } from "../../lib/trainer/types.ts";

export function meta(id: string, createdAt = "2026-11-26T09:05:07.000Z"): RunMeta {
  return {
    schema: 1,
    id,
    version: "0.1.0",
    createdAt,
    seed: 42,
    config: {
      model: "gpt2",
      dataset: "openwebtext",
      seqLen: 1024,
      batchSize: 8,
      gradAccum: 4,
      workers: 2,
      epochs: 1,
      lr: 6e-4,
      minLr: 6e-5,
      warmupSteps: 100,
      schedule: "cosine",
      precision: "auto",
      seed: 42,
      evalEvery: 0,
      saveEvery: 500,
      device: "auto",
      gpus: 1,
      strictDevice: false,
    },
    device: {
      requested: "auto",
      kind: "cuda",
      torchDevice: "cuda:0",
      id: "a30",
      name: "NVIDIA A30",
      count: 1,
      available: 2,
      warnings: [],
    },
    precision: "bf16",
    hidden: { framework: "nanogpt" },
    argv: ["train", "--epochs", "1"],
  };
}

export function state(id: string, patch: Partial<RunState> = {}): RunState {
  return {
    ...queuedState(id, Date.parse("2026-11-26T09:05:07.000Z")),
    totalSteps: 1000,
    epochs: 1,
    gpu: { util: 97, memUsedMiB: 20000, memTotalMiB: 24576, powerW: 160, tempC: 61 },
    ...patch,
  };
}

export function manifest(step: number): CheckpointManifest {
  return {
    schema: 1,
    step,
    epoch: step / 1000,
    samples: step * 32,
    tokens: step * 32 * 1024,
    savedAt: "2026-11-26T10:00:00.000Z",
    totalSteps: 1000,
    lr: {
      peak: 6e-4,
      min: 6e-5,
      warmupSteps: 100,
      totalSteps: 1000,
      decay: "cosine",
      decaySteps: 0,
    },
    // The store checks only the engine state's step.
    sim: { step } as unknown as CheckpointManifest["sim"],
    loss: 3.2,
    valLoss: null,
    files: [{ name: "model.safetensors", bytes: 497774208 }],
    bytes: 497774208,
  };
}
