/**
 * The default `nvidia-smi` table of a node, driver ≥ 550 layout (89 columns between the
 * borders; REALISM 1.11): a pure function of the GPU spec and telemetry samples.
 */
import type { GpuSpec } from "../data.ts";
import type { GpuSample } from "../engine/telemetry.ts";

const RULE = `+${"-".repeat(89)}+`;
const CELLS = `+${"-".repeat(41)}+${"-".repeat(24)}+${"-".repeat(22)}+`;

export interface SmiProcess {
  gpu: number;
  pid: number;
  name: string;
  memMiB: number;
}

function row(a: string, b: string, c: string): string {
  return `|${a}|${b}|${c}|`;
}

/** The GPU rows of one device (three text rows). */
export function smiGpuRows(gpu: GpuSpec, s: GpuSample, index: number): string[] {
  const bus = `00000000:${(gpu.busIds[index % gpu.busIds.length] ?? "00").toUpperCase()}:00.0`;
  const perf = "P0"; // HGX boards with persistence mode stay in P0, idle or not
  const power = `${s.powerW}W / ${String(s.powerCapW).padStart(4)}W`;
  const left = ` N/A  ${`${s.tempC}C`.padStart(4)}    ${perf}`;
  return [
    row(
      `${String(index).padStart(4)}  ${gpu.smiName.padEnd(31)}On  `,
      `   ${bus} Off `,
      `${"0".padStart(21)} `,
    ),
    row(
      left + power.padStart(40 - left.length) + " ",
      `${`${s.memUsedMiB}MiB / ${String(s.memTotalMiB).padStart(6)}MiB`.padStart(23)} `,
      `${`${s.util}%`.padStart(8)}      Default `,
    ),
    row(" ".repeat(41), " ".repeat(24), `${"Disabled".padStart(21)} `),
  ];
}

export function nvidiaSmi(opts: {
  gpu: GpuSpec;
  samples: readonly GpuSample[];
  /** ctime-style date ("Thu Nov 26 09:00:00 2026"). */
  date: string;
  processes: readonly SmiProcess[];
}): string[] {
  const { gpu, samples } = opts;
  const v = gpu.driver;
  const header = `| NVIDIA-SMI ${v.padEnd(23)}Driver Version: ${v.padEnd(15)}CUDA Version: ${
    gpu.cuda.padEnd(9)
  }|`;
  const lines = [
    opts.date,
    RULE,
    header,
    `|${"-".repeat(41)}+${"-".repeat(24)}+${"-".repeat(22)}+`,
    row(
      " GPU  Name                 Persistence-M ",
      " Bus-Id          Disp.A ",
      " Volatile Uncorr. ECC ",
    ),
    row(
      " Fan  Temp   Perf          Pwr:Usage/Cap ",
      "           Memory-Usage ",
      " GPU-Util  Compute M. ",
    ),
    row(" ".repeat(41), " ".repeat(24), "               MIG M. "),
    `|${"=".repeat(41)}+${"=".repeat(24)}+${"=".repeat(22)}|`,
  ];
  samples.forEach((s, i) => {
    lines.push(...smiGpuRows(gpu, s, i));
    lines.push(CELLS);
  });
  lines.push(
    "",
    RULE,
    `| Processes:${" ".repeat(78)}|`,
    "|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |",
    "|        ID   ID                                                               Usage      |",
    `|${"=".repeat(89)}|`,
  );
  if (opts.processes.length === 0) {
    lines.push(`|  No running processes found${" ".repeat(61)}|`);
  }
  for (const p of opts.processes) {
    const head = `${String(p.gpu).padStart(5)}   N/A  N/A ${
      String(p.pid).padStart(15)
    }      C   ${p.name}`;
    const mem = `${p.memMiB}MiB `;
    lines.push(`|${head.padEnd(89 - mem.length)}${mem}|`);
  }
  lines.push(RULE);
  return lines;
}
