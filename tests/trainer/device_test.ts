import assert from "node:assert/strict";
import { UsageError } from "../../lib/cli/errors.ts";
import { GPUS } from "../../lib/data.ts";
import type { Precision } from "../../lib/engine/types.ts";
import {
  CPU_NAME,
  DEFAULT_GPU_ID,
  defaultGpu,
  resolveDevice,
  supportedPrecisions,
} from "../../lib/trainer/device.ts";
import type { TrainConfig } from "../../lib/trainer/types.ts";

type Req = Pick<TrainConfig, "device" | "gpus" | "strictDevice" | "precision">;
const base: Req = { device: "auto", gpus: 1, strictDevice: false, precision: "auto" };
const resolve = (r: Partial<Req>) => resolveDevice({ ...base, ...r });

function usageError(r: Partial<Req>): string {
  try {
    resolve(r);
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    assert.ok(!e.message.includes("\n"), e.message);
    return e.message;
  }
  assert.fail(`${JSON.stringify(r)} was accepted`);
}

Deno.test("auto and cuda pick the default GPU, cuda:0", () => {
  assert.equal(DEFAULT_GPU_ID, "a30");
  assert.equal(defaultGpu().smiName, "NVIDIA A30");
  for (const device of ["auto", "cuda", "CUDA", " auto "]) {
    for (const strictDevice of [false, true]) {
      assert.deepEqual(resolve({ device, strictDevice }), {
        device: {
          requested: device,
          kind: "cuda",
          torchDevice: "cuda:0",
          id: "a30",
          name: "NVIDIA A30",
          count: 1,
          available: 4,
          warnings: [],
        },
        precision: "bf16",
      });
    }
  }
});

Deno.test("a GPU name in the catalog is used as is, by id, alias, name or smiName", () => {
  const cases: [string, string, number][] = [
    ["A30", "a30", 4],
    ["a30", "a30", 4],
    ["NVIDIA A30", "a30", 4],
    ["a100", "a100-80gb", 8],
    ["NVIDIA H100 80GB HBM3", "h100-sxm", 8],
    ["h100-sxm", "h100-sxm", 8],
    ["L40S", "l40s", 8],
  ];
  for (const [device, id, available] of cases) {
    for (const strictDevice of [false, true]) {
      const r = resolve({ device, strictDevice });
      assert.equal(r.device.id, id, device);
      assert.equal(r.device.available, available, device);
      assert.equal(r.device.requested, device);
      assert.deepEqual(r.device.warnings, [], device);
    }
  }
  assert.equal(resolve({ device: "a100" }).device.name, "NVIDIA A100-SXM4-80GB");
});

Deno.test("cuda:N picks device N; past the machine it falls back, or fails when strict", () => {
  const r = resolve({ device: "cuda:3" });
  assert.equal(r.device.torchDevice, "cuda:3");
  assert.deepEqual(r.device.warnings, []);
  const fell = resolve({ device: "cuda:9" });
  assert.equal(fell.device.torchDevice, "cuda:0");
  assert.equal(fell.device.requested, "cuda:9");
  assert.deepEqual(fell.device.warnings, [
    "requested device cuda:9 does not exist (invalid device ordinal: this machine has 4 × NVIDIA A30 (cuda:0 … cuda:3)); using cuda:0",
  ]);
  assert.equal(resolve({ device: "cuda:4" }).device.torchDevice, "cuda:0");
  assert.equal(
    usageError({ device: "cuda:9", strictDevice: true }),
    "--device cuda:9: invalid device ordinal: this machine has 4 × NVIDIA A30 (cuda:0 … cuda:3)",
  );
  assert.equal(resolve({ device: "cuda:3", strictDevice: true }).device.torchDevice, "cuda:3");
  assert.match(usageError({ device: "cuda:x" }), /^--device cuda:x: expected cuda:N/);
  assert.match(usageError({ device: "cuda:-1" }), /^--device cuda:-1: expected cuda:N/);
});

Deno.test("more GPUs than the machine has (from the start index) is always an error", () => {
  assert.equal(resolve({ gpus: 4 }).device.count, 4);
  assert.equal(
    usageError({ gpus: 5 }),
    "--gpus 5: not enough devices: this machine has 4 × NVIDIA A30 (cuda:0 … cuda:3); more takes whole machines (--gpus 8, 12 …)",
  );
  assert.equal(resolve({ device: "cuda:2", gpus: 2 }).device.count, 2);
  assert.equal(
    usageError({ device: "cuda:2", gpus: 3 }),
    "--gpus 3 from cuda:2: not enough devices: this machine has 4 × NVIDIA A30 (cuda:0 … cuda:3); more takes whole machines (--gpus 8, 12 …)",
  );
  assert.equal(resolve({ device: "h100", gpus: 8 }).device.count, 8);
  assert.match(usageError({ device: "h100", gpus: 12 }), /has 8 × NVIDIA H100 80GB HBM3/);
  const cluster = resolve({ device: "h100", gpus: 64 }).device;
  assert.deepEqual([cluster.count, cluster.available], [64, 64], "8 whole machines");
});

Deno.test("an unknown GPU name falls back to the closest match, or fails when strict", () => {
  const r = resolve({ device: "A31" });
  assert.equal(r.device.id, "a30");
  assert.equal(r.device.requested, "A31");
  assert.deepEqual(r.device.warnings, [
    "requested GPU 'A31' is not in the catalog; using the closest match: NVIDIA A30",
  ]);
  assert.equal(resolve({ device: "h110" }).device.id.startsWith("h1"), true);
  assert.equal(
    usageError({ device: "A31", strictDevice: true }),
    "--device: unknown GPU 'A31'; did you mean a30? (llm-sim --list gpus shows all)",
  );
  const far = resolve({ device: "Radeon RX 7900 XTX" });
  assert.equal(far.device.id, "a30");
  assert.deepEqual(far.device.warnings, [
    "requested GPU 'Radeon RX 7900 XTX' is not in the catalog; nothing there comes close, using the default: NVIDIA A30",
  ]);
  assert.match(
    usageError({ device: "Radeon RX 7900 XTX", strictDevice: true }),
    /^--device: unknown GPU 'Radeon RX 7900 XTX'/,
  );
});

Deno.test("cpu is one CPU in fp32", () => {
  assert.deepEqual(resolve({ device: "cpu" }), {
    device: {
      requested: "cpu",
      kind: "cpu",
      torchDevice: "cpu",
      id: "cpu",
      name: CPU_NAME,
      count: 1,
      available: 1,
      warnings: [],
    },
    precision: "fp32",
  });
  assert.equal(resolve({ device: "cpu", precision: "fp32" }).precision, "fp32");
  assert.equal(
    usageError({ device: "cpu", gpus: 2 }),
    "--gpus 2: --device cpu trains on one CPU; use --gpus 1",
  );
  assert.equal(
    usageError({ device: "cpu", precision: "fp16" }),
    `--precision fp16: the CPU (${CPU_NAME}) supports fp32 only; fp16 needs a GPU`,
  );
  assert.match(usageError({ device: "cpu", precision: "bf16" }), /supports fp32 only/);
});

Deno.test("precision auto: bf16 from Ampere on, fp16 before", () => {
  const auto = (device: string) => resolve({ device }).precision;
  assert.equal(auto("a30"), "bf16");
  assert.equal(auto("a100"), "bf16");
  assert.equal(auto("h100"), "bf16");
  assert.equal(auto("b200"), "bf16");
  assert.equal(auto("v100"), "fp16");
});

Deno.test("explicit precisions the device lacks are refused, naming what it supports", () => {
  assert.equal(
    usageError({ device: "a30", precision: "fp8" }),
    "--precision fp8: NVIDIA A30 (Ampere, compute capability 8.0) supports bf16, fp16, fp32 only; fp8 needs compute capability 8.9 or newer (Ada Lovelace, Hopper, Blackwell)",
  );
  assert.equal(
    usageError({ device: "v100", precision: "bf16" }),
    "--precision bf16: Tesla V100-SXM2-32GB (Volta, compute capability 7.0) supports fp16, fp32 only; bf16 needs compute capability 8.0 or newer (Ampere and later)",
  );
  assert.match(usageError({ precision: "fp8" }), /NVIDIA A30/, "auto resolves before the check");
  const ok: [string, Precision][] = [
    ["h100", "fp8"],
    ["l40s", "fp8"],
    ["b200", "fp8"],
    ["a30", "fp16"],
    ["a30", "fp32"],
    ["v100", "fp16"],
    ["v100", "fp32"],
  ];
  for (const [device, precision] of ok) {
    assert.equal(resolve({ device, precision }).precision, precision, `${device} ${precision}`);
  }
});

Deno.test("supported precisions agree with the catalog's peak throughputs", () => {
  for (const g of GPUS) {
    const s = supportedPrecisions(g);
    assert.equal(s.includes("bf16"), g.peakTflops.bf16 !== null, g.id);
    assert.equal(s.includes("fp8"), g.peakTflops.fp8 !== null, g.id);
    assert.ok(s.includes("fp16") && s.includes("fp32"), g.id);
  }
  assert.deepEqual(supportedPrecisions(null), ["fp32"]);
});
