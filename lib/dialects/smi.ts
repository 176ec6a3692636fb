/** `$ nvidia-smi` typed on the node before a launch: the GPUs idle, no processes. */
import type { Beat, RunContext } from "../phases/context.ts";
import { ctime } from "../render/format.ts";
import { nvidiaSmi } from "../render/nvidia_smi.ts";

export function nvidiaSmiBeats(ctx: RunContext): Beat[] {
  const c = ctx.cfg;
  return [
    { wait: 0, text: "$ nvidia-smi" },
    {
      wait: 420,
      text: () => {
        const now = ctx.clock.now();
        const samples = Array.from(
          { length: c.gpusPerNode },
          (_, i) => ctx.sim.telemetry.sample(i, now),
        );
        return nvidiaSmi({ gpu: c.gpu, samples, date: ctime(now, ctx.tz), processes: [] })
          .join("\n");
      },
    },
  ];
}
