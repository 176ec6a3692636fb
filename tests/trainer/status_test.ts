/** What status and runs say: dead processes read as failed, ETA runs down, n/a without GPUs. */
import assert from "node:assert/strict";
import { parseTrainerArgs } from "../../lib/cli/trainer_args.ts";
import { UsageError } from "../../lib/cli/errors.ts";
import {
  effectiveState,
  epochOf,
  latestCheckpointOf,
  QUEUED_GRACE_S,
  runsTable,
  statusText,
  statusView,
} from "../../lib/trainer/status.ts";
import { meta as fixtureMeta, state as fixtureState } from "../store/_fixtures.ts";

const NOW = Date.parse("2026-11-26T10:00:00Z");

Deno.test("effectiveState(): running with no lock holder is failed; a young queued run is not", () => {
  const running = { ...fixtureState("r1"), status: "running" as const, pid: 77 };
  assert.equal(effectiveState(running, true, NOW), running, "alive: as written");
  const dead = effectiveState(running, false, NOW);
  assert.equal(dead.status, "failed");
  assert.equal(dead.reason, "process exited unexpectedly");
  assert.equal(dead.pid, null);
  const young = {
    ...fixtureState("r2"),
    status: "queued" as const,
    queuedAt: new Date(NOW - 5_000).toISOString(),
  };
  assert.equal(effectiveState(young, false, NOW).status, "queued");
  const stale = { ...young, queuedAt: new Date(NOW - (QUEUED_GRACE_S + 1) * 1000).toISOString() };
  assert.equal(effectiveState(stale, false, NOW).status, "failed");
  for (const s of ["completed", "stopped", "failed"] as const) {
    const done = { ...fixtureState("r3"), status: s };
    assert.equal(effectiveState(done, false, NOW), done, `${s} stays ${s}`);
  }
});

Deno.test("statusView(): the time left runs down from the written ETA; finished runs have none", () => {
  const m = fixtureMeta("r1");
  const s = {
    ...fixtureState("r1"),
    status: "running" as const,
    pid: 77,
    step: 50,
    totalSteps: 200,
    startedAt: new Date(NOW - 30_000).toISOString(),
    updatedAt: new Date(NOW - 10_000).toISOString(),
    etaAt: new Date(NOW + 60_000).toISOString(),
    remainingS: 70,
    elapsedS: 20,
  };
  const v = statusView(m, s, true, [40], "runs/r1", NOW);
  assert.equal(v.remaining_s, 60);
  assert.equal(v.elapsed_s, 30, "elapsed grows since the last write");
  assert.equal(v.progress, 0.25);
  assert.equal(v.pid, 77);
  const dead = statusView(m, effectiveState(s, false, NOW), false, [40], "runs/r1", NOW);
  assert.equal(dead.status, "failed");
  assert.equal(dead.eta, null);
  assert.equal(dead.remaining_s, null);
  assert.equal(dead.pid, null);
  const text = statusText(v, NOW, 0);
  assert.match(text, /^status {5}running \(pid 77\)$/m);
  assert.match(text, /ETA 10:01:00 \(1m 00s left\)/);
});

Deno.test("statusText() says n/a for GPU telemetry on CPU runs; runsTable() keeps broken runs listed", () => {
  const v = statusView(
    fixtureMeta("c1"),
    { ...fixtureState("c1"), gpu: null },
    false,
    [],
    "runs/c1",
    NOW,
  );
  assert.match(statusText(v, NOW, 0), /^gpu {8}n\/a$/m);
  const table = runsTable(
    [
      { id: "c1", view: v, error: null },
      { id: "bad", view: null, error: "runs/bad/state.json: not valid JSON" },
    ],
    NOW,
    0,
  ).split("\n");
  assert.match(table[0]!, /^RUN +STATUS +MODEL +EPOCH +LOSS +DEVICE +ETA$/);
  assert.match(table[2]!, /^bad +broken +runs\/bad\/state\.json: not valid JSON/);
});

Deno.test("statusText() and runsTable() name how many GPUs a run uses", () => {
  const m = fixtureMeta("g64");
  const meta = { ...m, device: { ...m.device, id: "h100", name: "NVIDIA H100", count: 64 } };
  const v = statusView(meta, fixtureState("g64"), false, [], "runs/g64", NOW);
  assert.match(statusText(v, NOW, 0), /^device {5}cuda:0 ×64 NVIDIA H100 \(requested: auto\)$/m);
  assert.match(
    runsTable([{ id: "g64", view: v, error: null }], NOW, 0),
    / cuda:0 ×64 NVIDIA H100 /,
  );
  const one = statusView(m, fixtureState("g1"), false, [], "runs/g1", NOW);
  assert.match(runsTable([{ id: "g1", view: one, error: null }], NOW, 0), / cuda:0 NVIDIA A30 /);
});

Deno.test("trainer commands: bad --more-epochs, --checkpoint and extra arguments are one-line errors", () => {
  for (
    const argv of [["--more-epochs", "0"], ["--more-epochs", "-2"], ["--more-epochs", "x"], []]
  ) {
    assert.throws(() => parseTrainerArgs("resume", argv), UsageError, argv.join(" "));
  }
  assert.throws(
    () => parseTrainerArgs("resume", ["--more-epochs", "1", "--checkpoint", "last"]),
    UsageError,
  );
  const r = parseTrainerArgs("resume", ["abc", "--more-epochs", "2", "--checkpoint", "step-40"]);
  assert.deepEqual(
    r.cmd === "resume" ? [r.run, r.checkpoint, r.moreEpochs] : null,
    ["abc", 40, 2],
  );
  assert.throws(() => parseTrainerArgs("status", ["a", "b"]), /takes one run id/);
  assert.throws(() => parseTrainerArgs("train", ["--epoch", "3"]), /did you mean --epochs/);
  const t = parseTrainerArgs("train", ["--epochs", "2", "--device", "cpu", "--detach"]);
  assert.deepEqual(
    t.cmd === "train" ? [t.settings.epochs, t.settings.device, t.detach] : null,
    [2, "cpu", true],
  );
});

Deno.test("latestCheckpointOf(): the run's last save while it is on disk, else the newest", () => {
  assert.equal(latestCheckpointOf(null, []), null);
  assert.equal(latestCheckpointOf(null, [20, 100, 300]), 300);
  // resumed from step-100: the abandoned continuation's step-300 is not the run's latest
  assert.equal(latestCheckpointOf(100, [20, 100, 300]), 100);
  // its last save was removed by hand: the newest left
  assert.equal(latestCheckpointOf(200, [20, 100]), 100);
});

Deno.test("epochOf(): whole planned epochs plain, a mid-epoch end to two decimals", () => {
  assert.equal(epochOf({ epoch: 1.25, epochs: 3 }), "1.25/3");
  assert.equal(epochOf({ epoch: 0, epochs: 2.5 }), "0.00/2.50");
  assert.equal(epochOf({ epoch: 2, epochs: 13 / 6 }), "2.00/2.17");
});
