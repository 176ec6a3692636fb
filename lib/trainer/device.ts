/**
 * `--device` and `--precision` against the simulated machine: `gpusPerNode` GPUs of the chosen
 * type (data/gpus.json), or one CPU. Pure: fallbacks come back as warning lines.
 */
import { findGpu, requireGpu } from "../cli/catalog.ts";
import { UsageError } from "../cli/errors.ts";
import { closest } from "../cli/suggest.ts";
import { GPUS, type GpuSpec } from "../data.ts";
import type { Precision } from "../engine/types.ts";
import type { ResolvedDevice, TrainConfig } from "./types.ts";

/** The GPU of `auto` and `cuda`: a hobbyist's workstation with NVIDIA A30s. */
export const DEFAULT_GPU_ID = "a30";
/** What the simulated machine's CPU calls itself (/proc/cpuinfo model name). */
export const CPU_NAME = "AMD EPYC 7763 64-Core Processor";

export function defaultGpu(): GpuSpec {
  const gpu = GPUS.find((g) => g.id === DEFAULT_GPU_ID);
  if (!gpu) throw new Error(`default GPU '${DEFAULT_GPU_ID}' is missing from data/gpus.json`);
  return gpu;
}

/** Precisions a device trains in: fp32 anywhere, fp16 on GPUs, bf16 from 8.0, fp8 from 8.9. */
export function supportedPrecisions(gpu: GpuSpec | null): Precision[] {
  if (!gpu) return ["fp32"];
  const cc = Number(gpu.computeCapability);
  return [
    ...(cc >= 8 ? ["bf16" as const] : []),
    "fp16",
    ...(cc >= 8.9 ? ["fp8" as const] : []),
    "fp32",
  ];
}

const NEEDS: Record<Precision, string> = {
  fp8: "compute capability 8.9 or newer (Ada Lovelace, Hopper, Blackwell)",
  bf16: "compute capability 8.0 or newer (Ampere and later)",
  fp16: "a GPU",
  fp32: "nothing",
};

function pickPrecision(gpu: GpuSpec | null, want: Precision | "auto"): Precision {
  const ok = supportedPrecisions(gpu);
  if (want === "auto") return gpu ? (ok.includes("bf16") ? "bf16" : "fp16") : "fp32";
  if (ok.includes(want)) return want;
  const what = gpu
    ? `${gpu.smiName} (${gpu.arch}, compute capability ${gpu.computeCapability})`
    : `the CPU (${CPU_NAME})`;
  throw new UsageError(
    `--precision ${want}: ${what} supports ${ok.join(", ")} only; ${want} needs ${
      gpu ? NEEDS[want] : "a GPU"
    }`,
  );
}

/** "4 × NVIDIA A30 (cuda:0 … cuda:3)". */
function machine(gpu: GpuSpec): string {
  const n = gpu.gpusPerNode;
  const ids = n === 1 ? "cuda:0" : `cuda:0${n > 2 ? " …" : ","} cuda:${n - 1}`;
  return `${n} × ${gpu.smiName} (${ids})`;
}

/** The device and precision a run gets; impossible requests throw UsageError. */
export function resolveDevice(
  c: Pick<TrainConfig, "device" | "gpus" | "strictDevice" | "precision">,
): { device: ResolvedDevice; precision: Precision } {
  const requested = c.device;
  const q = requested.trim().toLowerCase();
  const warnings: string[] = [];
  if (q === "cpu") {
    if (c.gpus !== 1) {
      throw new UsageError(`--gpus ${c.gpus}: --device cpu trains on one CPU; use --gpus 1`);
    }
    const device: ResolvedDevice = {
      requested,
      kind: "cpu",
      torchDevice: "cpu",
      id: "cpu",
      name: CPU_NAME,
      count: 1,
      available: 1,
      warnings,
    };
    return { device, precision: pickPrecision(null, c.precision) };
  }
  let gpu = defaultGpu();
  let index = 0;
  const ordinal = /^cuda:(.*)$/.exec(q);
  if (ordinal) {
    if (!/^\d+$/.test(ordinal[1] ?? "")) {
      throw new UsageError(`--device ${requested}: expected cuda:N, N a device index (0, 1, …)`);
    }
    index = Number(ordinal[1]);
    if (index >= gpu.gpusPerNode) {
      const why = `invalid device ordinal: this machine has ${machine(gpu)}`;
      if (c.strictDevice) throw new UsageError(`--device ${requested}: ${why}`);
      warnings.push(`requested device ${requested} does not exist (${why}); using cuda:0`);
      index = 0;
    }
  } else if (q !== "auto" && q !== "cuda") {
    const found = findGpu(requested);
    if (found) gpu = found;
    else if (c.strictDevice) gpu = requireGpu("--device", requested);
    else {
      const spellings = GPUS.flatMap((g) =>
        [g.id, g.name, g.smiName, ...g.aliases].map((s) => ({ spelling: s, name: g.id }))
      );
      const near = GPUS.find((g) => g.id === closest(requested, spellings, 1)[0]);
      if (near) gpu = near;
      warnings.push(
        `requested GPU '${requested}' is not in the catalog; ${
          near ? "using the closest match" : "nothing there comes close, using the default"
        }: ${gpu.smiName}`,
      );
    }
  }
  // one machine, or a cluster of whole machines (--gpus 64 on 8-GPU nodes: 8 nodes)
  const perNode = gpu.gpusPerNode;
  const cluster = index === 0 && c.gpus > perNode && c.gpus % perNode === 0;
  const available = cluster ? c.gpus : perNode;
  if (c.gpus > available - index) {
    throw new UsageError(
      `--gpus ${c.gpus}${index ? ` from cuda:${index}` : ""}: not enough devices: ` +
        `this machine has ${machine(gpu)}; more takes whole machines (--gpus ${2 * perNode}, ${
          3 * perNode
        } …)`,
    );
  }
  const device: ResolvedDevice = {
    requested,
    kind: "cuda",
    torchDevice: `cuda:${index}`,
    id: gpu.id,
    name: gpu.smiName,
    count: c.gpus,
    available,
    warnings,
  };
  return { device, precision: pickPrecision(gpu, c.precision) };
}
