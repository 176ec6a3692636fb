/** Fixed monitor states for view goldens: runs from a real (simulated) training session. */
import { VirtualClock } from "../../lib/core/clock.ts";
import { JsonlDialect } from "../../lib/dialects/jsonl.ts";
import { TeeDialect } from "../../lib/dialects/tee.ts";
import { TrainerDialect } from "../../lib/dialects/trainer.ts";
import { MemoryTerminal } from "../../lib/term/memory_terminal.ts";
import { Screen } from "../../lib/term/screen.ts";
import { mergeConfig } from "../../lib/trainer/config.ts";
import { resolveDevice } from "../../lib/trainer/device.ts";
import { type RunFiles, RunRecorder } from "../../lib/trainer/recorder.ts";
import { playTrain, trainScenario } from "../../lib/trainer/session.ts";
import { queuedState } from "../../lib/trainer/state.ts";
import { statusView } from "../../lib/trainer/status.ts";
import type {
  CheckpointManifest,
  RunMeta,
  RunState,
  TrainConfig,
} from "../../lib/trainer/types.ts";
import { RunMetrics } from "../../lib/tui/metrics.ts";
import { initialState, type MonitorState, type RunEntry, withRuns } from "../../lib/tui/monitor.ts";

export const NOW = Date.parse("2026-11-26T10:00:00Z");

/** Play a run to `stopAt` (or its end), keeping its metrics, log, last state and checkpoints. */
export async function simulated(id: string, over: Partial<TrainConfig>, stopAt: number | null) {
  const config = mergeConfig(over);
  const { device, precision } = resolveDevice(config);
  const made = trainScenario(config, device, precision, {
    checkpointDir: `runs/${id}/checkpoints`,
    pid: 4242,
  });
  if ("reason" in made) throw new Error(made.reason);
  const metrics: string[] = [], log: string[] = [], states: RunState[] = [], saved: number[] = [];
  let wall = NOW - 600_000;
  const files: RunFiles = {
    writeState: (s) => void states.push(structuredClone(s)),
    writeCheckpoint: (m: CheckpointManifest) => void saved.push(m.step),
    stopRequested: () => stopAt !== null && (states.at(-1)?.step ?? 0) >= stopAt,
    wallNow: () => (wall += 40),
  };
  const start = queuedState(id, wall);
  const term = new MemoryTerminal({ columns: 200 });
  await playTrain({
    scenario: made,
    dialect: new TeeDialect(
      new TrainerDialect({
        runId: id,
        runDir: `runs/${id}`,
        command: "llm-sim train",
        device,
        moreEpochs: 0,
        guidance: [],
      }),
      new JsonlDialect(),
      (l) => void metrics.push(l),
    ),
    recorder: new RunRecorder(files, start, 4242),
    screen: new Screen(term, { wrap: false, mirror: (t) => void log.push(...t.split("\n")) }),
    clock: new VirtualClock(NOW - 600_000),
    tz: 0,
  });
  const meta = {
    id,
    config,
    device,
    precision,
    createdAt: new Date(NOW - 600_000).toISOString(),
    hidden: { precision },
  } as unknown as RunMeta;
  const m = new RunMetrics();
  const text = metrics.join("\n") + "\n";
  m.ingest(text, text.length);
  return { meta, state: states.at(-1)!, saved, metrics: m, log };
}

/** Metrics and log of the fixture's second (completed) run, to show it selected. */
export let completedRun: { metrics: RunMetrics; log: string[] } | null = null;

/** Three runs: one running (its last state marked alive), one completed, one broken. */
export async function fixture(width: number, height: number): Promise<MonitorState> {
  const a = await simulated("20261126-095000-gpt2-1a2b", { epochs: 3 }, 120);
  const b = await simulated("20261126-093000-gpt2-medium-77c1", {
    model: "gpt2-medium",
    epochs: 2,
    dataset: "tinyshakespeare",
    device: "H100",
    gpus: 2,
  }, null);
  completedRun = { metrics: b.metrics, log: b.log };
  const running: RunState = {
    ...a.state,
    status: "running",
    pid: 4242,
    reason: null,
    endedAt: null,
    etaAt: new Date(NOW + 95_000).toISOString(),
    remainingS: 95,
    updatedAt: new Date(NOW).toISOString(),
  };
  const runs: RunEntry[] = [
    {
      id: a.meta.id,
      view: statusView(a.meta, running, true, a.saved, `runs/${a.meta.id}`, NOW),
      error: null,
    },
    {
      id: b.meta.id,
      view: statusView(b.meta, b.state, false, b.saved, `runs/${b.meta.id}`, NOW),
      error: null,
    },
    {
      id: "20261126-090000-llama-3.2-1b-0bad",
      view: null,
      error:
        "runs/20261126-090000-llama-3.2-1b-0bad/state.json: not valid JSON (Unexpected end of JSON input)",
    },
  ];
  const s = initialState({
    width,
    height,
    color: false,
    now: NOW,
    tz: 0,
    runsDir: "runs",
    profiles: [{ name: "defaults", settings: {} }],
  });
  return { ...withRuns(s, runs, null), metrics: a.metrics, log: a.log };
}
