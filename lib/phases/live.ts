/**
 * The live region during training (TTY only): the dialect's bars, an optional extra line
 * (validation bar, checkpoint progress) and the GPU grid, which refreshes at the telemetry
 * scrape interval so a save or an eval shows the GPUs going quiet.
 */
import type { LiveState } from "../dialects/dialect.ts";
import { renderGpuGrid } from "../render/gpu_grid.ts";
import type { RunContext } from "./context.ts";

/** Telemetry refresh period of the GPU grid (like a DCGM scrape), simulated ms. */
const GRID_REFRESH_MS = 2000;
/** Fastest redraw, simulated ms. */
const REDRAW_MS = 250;

export class LiveRegion {
  readonly #ctx: RunContext;
  #state: LiveState | null = null;
  #extra: string[] = [];
  #grid: string[] = [];
  #gridAt = -Infinity;
  #drawnAt = -Infinity;

  constructor(ctx: RunContext) {
    this.#ctx = ctx;
  }

  /** New training progress; redraws at most every REDRAW_MS unless forced. */
  train(state: LiveState, force = false): void {
    this.#state = state;
    this.refresh(force);
  }

  /** Lines shown under the bars (an eval bar, a save in progress); [] removes them. */
  extra(lines: string[]): void {
    this.#extra = lines;
    this.refresh(true);
  }

  refresh(force = false): void {
    const ctx = this.#ctx;
    if (!ctx.screen.live || this.#state === null) return;
    const now = ctx.clock.now();
    if (!force && now - this.#drawnAt < REDRAW_MS) return;
    this.#drawnAt = now;
    const bars = ctx.dialect.live(ctx, this.#state);
    if (now - this.#gridAt >= GRID_REFRESH_MS) {
      this.#gridAt = now;
      const c = ctx.cfg;
      const room = ctx.screen.term.rows - bars.length - this.#extra.length - 4;
      // a CPU run has no GPUs to show
      this.#grid = room < 2 || c.gpu.vendor !== "nvidia" ? [] : renderGpuGrid({
        gpus: c.gpus,
        gpusPerNode: c.gpusPerNode,
        gpuName: c.gpu.name,
        host: ctx.host,
        sample: (r) => ctx.sim.telemetry.sample(r, now),
        width: ctx.screen.columns,
        color: ctx.screen.color,
        maxRows: Math.min(8, room - 1),
      });
    }
    ctx.screen.region([...bars, ...this.#extra, ...this.#grid]);
  }
}
