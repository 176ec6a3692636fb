/**
 * Instant mode throughput: a run whose training window is exactly 10,000 steps, logging every
 * step, played through the real phases and the Deno terminal (send stdout to /dev/null). The
 * run is played three times in one process: the first is cold (JIT warming up, as a single
 * `--instant` run is), the last warm (as every later run of a long `--instant` show is).
 * With --jsonl the run is the JSONL stream (every line an event). Prints
 * "<lines> <cold ms> <warm ms>" on stderr.
 */
import { VirtualClock } from "../lib/core/clock.ts";
import { TorchrunDialect } from "../lib/dialects/torchrun.ts";
import { JsonlDialect } from "../lib/dialects/jsonl.ts";
import { derivePhysics, RunSim } from "../lib/engine/run.ts";
import { buildScenario, isInfeasible } from "../lib/engine/scenario.ts";
import { createRunContext } from "../lib/phases/context.ts";
import { PHASES } from "../lib/phases/mod.ts";
import { DenoTerminal } from "../lib/term/deno_terminal.ts";
import type { Terminal } from "../lib/term/terminal.ts";
import { Screen } from "../lib/term/screen.ts";

const STEPS = 10_000;

class CountingTerminal implements Terminal {
  lines = 0;
  constructor(readonly inner: DenoTerminal) {}
  get columns() {
    return this.inner.columns;
  }
  get rows() {
    return this.inner.rows;
  }
  get color() {
    return this.inner.color;
  }
  get live() {
    return this.inner.live;
  }
  write(s: string): void {
    for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) this.lines++;
    this.inner.write(s);
  }
}

const sc = buildScenario({ seed: 5, kind: "pretrain", fresh: true });
if (isInfeasible(sc)) throw new Error(sc.reason);
const base = sc.config;
const cfg = {
  ...base,
  startStep: 0,
  endStep: STEPS,
  totalSteps: STEPS * 20,
  logInterval: 1,
  evalInterval: 2500,
  saveInterval: 5000,
  lr: { ...base.lr, totalSteps: STEPS * 20 },
};
const physics = derivePhysics(cfg, sc.candidate);
const deno = new DenoTerminal();
const term = new CountingTerminal(deno);

async function playOnce(): Promise<number> {
  const ctx = createRunContext({
    screen: new Screen(term, { wrap: false }),
    clock: new VirtualClock(Date.parse("2026-11-26T09:00:00Z"), {
      beforeYield: () => deno.flush(),
    }),
    cfg,
    physics,
    sim: new RunSim(cfg, physics),
    dialect: Deno.args.includes("--jsonl") ? new JsonlDialect() : new TorchrunDialect(),
    runIndex: 1,
    tz: 0,
    replay: "",
  });
  const t0 = performance.now();
  for (const phase of PHASES) {
    if (phase.name === "transition") break;
    await phase.run(ctx);
  }
  deno.flush();
  return performance.now() - t0;
}

const cold = await playOnce();
const lines = term.lines;
await playOnce();
const warm = await playOnce();
Deno.stderr.writeSync(
  new TextEncoder().encode(`${lines} ${cold.toFixed(1)} ${warm.toFixed(1)}\n`),
);
