/** nvidia-smi's table, byte for byte against the sample in REALISM.md §1.8 (driver 570, H100). */
import assert from "node:assert/strict";
import { GPUS } from "../../lib/data.ts";
import { nvidiaSmi } from "../../lib/render/nvidia_smi.ts";

const h100 = {
  ...GPUS.find((g) => g.id === "h100-sxm")!,
  driver: "570.124.06",
  cuda: "12.8",
  busIds: ["04"],
};

const sample = {
  rank: 0,
  node: 0,
  localRank: 0,
  util: 93,
  memUsedMiB: 74953,
  memTotalMiB: 81559,
  tempC: 51,
  powerW: 495,
  powerCapW: 700,
};

Deno.test("nvidiaSmi() draws the GPU table exactly as driver 570 does", () => {
  const out = nvidiaSmi({
    gpu: h100,
    samples: [sample],
    date: "Thu Nov 26 09:00:00 2026",
    processes: [{ gpu: 0, pid: 2734512, name: "/usr/bin/python3", memMiB: 74936 }],
  });
  assert.equal(out[0], "Thu Nov 26 09:00:00 2026");
  assert.deepEqual(out.slice(1, 12), [
    "+-----------------------------------------------------------------------------------------+",
    "| NVIDIA-SMI 570.124.06             Driver Version: 570.124.06     CUDA Version: 12.8     |",
    "|-----------------------------------------+------------------------+----------------------+",
    "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |",
    "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |",
    "|                                         |                        |               MIG M. |",
    "|=========================================+========================+======================|",
    "|   0  NVIDIA H100 80GB HBM3          On  |   00000000:04:00.0 Off |                    0 |",
    "| N/A   51C    P0            495W /  700W |   74953MiB /  81559MiB |     93%      Default |",
    "|                                         |                        |             Disabled |",
    "+-----------------------------------------+------------------------+----------------------+",
  ]);
  assert.deepEqual(out.slice(13), [
    "+-----------------------------------------------------------------------------------------+",
    "| Processes:                                                                              |",
    "|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |",
    "|        ID   ID                                                               Usage      |",
    "|=========================================================================================|",
    "|    0   N/A  N/A         2734512      C   /usr/bin/python3                      74936MiB |",
    "+-----------------------------------------------------------------------------------------+",
  ]);
});

Deno.test("nvidiaSmi() keeps every table line 91 columns wide for 8 GPUs and no processes", () => {
  const samples = Array.from({ length: 8 }, (_, i) => ({
    ...sample,
    rank: i,
    localRank: i,
    util: i * 14,
    tempC: 30 + i * 9,
    powerW: 70 + i * 90,
    memUsedMiB: i === 0 ? 0 : 80000,
  }));
  const busIds = ["18", "2a", "3a", "5d", "9a", "ab", "ba", "db"];
  const out = nvidiaSmi({
    gpu: { ...h100, busIds },
    samples,
    date: "Thu Nov 26 09:00:00 2026",
    processes: [],
  });
  // one blank line separates the GPU table from the processes table, as nvidia-smi prints it
  assert.deepEqual(out.slice(1).filter((l) => l.length !== 91), [""]);
  assert.ok(
    out.includes(
      "|  No running processes found                                                             |",
    ),
  );
  assert.equal(out.filter((l) => l.includes("NVIDIA H100 80GB HBM3")).length, 8);
});
