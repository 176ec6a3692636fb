/**
 * kill -9 at random moments, 100 times: detached runs (and resumes of them) die without
 * warning in the middle of steps, evaluations and checkpoint writes. After every kill each
 * meta/state/manifest file parses, every metrics line is whole, `status` says failed, and the
 * next `resume` continues from the last checkpoint with step and consumed samples consistent.
 */
import assert from "node:assert/strict";
import { Rng } from "../../lib/core/rng.ts";
import { runMain, waitFor } from "./_run.ts";

const KILLS = 100;
const LANES = 4;
const DENO = Deno.execPath();
/** A small run with a save every few steps, played 60× faster than real time. */
const RUN = [
  "--dataset",
  "tinyshakespeare",
  "--batch-size",
  "2",
  "--grad-accum",
  "1",
  "--epochs",
  "2",
  "--save-every",
  "7",
  "--eval-every",
  "14",
  "--speed",
  "60",
];

interface Tally {
  killed: number;
  runningAtKill: number;
  resumes: number;
  finishedFirst: number;
}

function parseAll(dir: string, id: string, kill: number): number | null {
  const run = `${dir}/runs/${id}`;
  const json = (f: string) => {
    try {
      return JSON.parse(Deno.readTextFileSync(f));
    } catch (e) {
      throw new Error(`kill ${kill}: ${f} does not parse: ${e}`);
    }
  };
  json(`${run}/meta.json`);
  const state = json(`${run}/state.json`);
  const steps: number[] = [];
  for (const e of Deno.readDirSync(`${run}/checkpoints`)) {
    // a save cut short leaves its directory without a manifest: not a checkpoint
    const file = `${run}/checkpoints/${e.name}/manifest.json`;
    try {
      Deno.statSync(file);
    } catch {
      continue;
    }
    const m = json(file);
    assert.equal(`step-${m.step}`, e.name);
    steps.push(m.step);
  }
  steps.sort((a, b) => a - b);
  if (state.lastCheckpoint !== null) {
    assert.ok(steps.includes(state.lastCheckpoint), `kill ${kill}: state names a saved checkpoint`);
  }
  // metrics.jsonl: whole lines only, and every resume goes on from a saved step
  const text = Deno.readTextFileSync(`${run}/metrics.jsonl`);
  assert.ok(text === "" || text.endsWith("\n"), `kill ${kill}: metrics.jsonl ends mid-line`);
  const events = text.trimEnd().split("\n").filter((l) => l).map((l, i) => {
    try {
      return JSON.parse(l);
    } catch {
      throw new Error(`kill ${kill}: metrics.jsonl line ${i + 1} is not JSON: ${l.slice(0, 80)}`);
    }
  });
  let expect: number | null = null;
  for (const e of events) {
    if (e.event === "resume") {
      assert.ok(steps.includes(e.from_step), `kill ${kill}: resumed from a saved step`);
      expect = e.from_step + 1;
    } else if (e.event === "step") {
      if (expect !== null) assert.equal(e.step, expect, `kill ${kill}: steps go on one by one`);
      assert.equal(e.samples, e.step * 2, `kill ${kill}: consumed samples = step × batch`);
      expect = e.step + 1;
    } else if (e.event === "run_start") expect = e.config.start_step + 1;
  }
  return steps.at(-1) ?? null;
}

async function lane(index: number, kills: number, tally: Tally): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: `llm-sim-kill-${index}-` });
  const rng = new Rng(9000 + index);
  const perms = ["--allow-read=runs", "--allow-write=runs", `--allow-run=${DENO}`];
  const run = (args: string[]) => runMain(args, { cwd: dir, denoFlags: perms });
  let id: string | null = null;
  try {
    for (let k = 0; k < kills; k++) {
      const kill = index * kills + k;
      const latest = id ? parseAll(dir, id, kill) : null;
      const resuming = id !== null && latest !== null;
      const start: Awaited<ReturnType<typeof run>> = resuming
        ? await run(["resume", id!, "--detach", "--more-epochs", "1", ...RUN.slice(-2)])
        : await run(["train", "--detach", "--seed", String(kill), ...RUN]);
      assert.equal(start.code, 0, `kill ${kill}: ${start.stderr}`);
      if (resuming) tally.resumes++;
      const m = /run (\S+) .*\(pid (\d+)\)/.exec(start.stdout);
      assert.ok(m, start.stdout);
      id = m[1]!;
      const pid = Number(m[2]);
      await new Promise((r) => setTimeout(r, rng.int(0, 900)));
      const before = JSON.parse(Deno.readTextFileSync(`${dir}/runs/${id}/state.json`));
      try {
        Deno.kill(pid, "SIGKILL");
        tally.killed++;
      } catch {
        tally.finishedFirst++; // it ended on its own first
      }
      const s = await waitFor(
        async () => {
          const r = await run(["status", id!, "--json"]);
          assert.equal(r.code, 0, r.stderr);
          const v = JSON.parse(r.stdout);
          return v.alive ? null : v;
        },
        10_000,
        "the killed process to be gone",
      );
      if (before.status === "running" && s.status !== "completed") {
        tally.runningAtKill++;
        assert.equal(s.status, "failed", `kill ${kill}: status after kill -9`);
        assert.equal(s.reason, "process exited unexpectedly");
      }
      parseAll(dir, id, kill);
      if (s.status === "completed") id = null; // start a fresh run next time
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test(`kill -9 at ${KILLS} random moments: files parse, status says failed, resume goes on`, async () => {
  const tally: Tally = { killed: 0, runningAtKill: 0, resumes: 0, finishedFirst: 0 };
  await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i, KILLS / LANES, tally)));
  // deno-lint-ignore no-console
  console.log(`  kill -9: ${JSON.stringify(tally)}`);
  assert.ok(tally.killed >= KILLS * 0.9, `only ${tally.killed} kills landed`);
  assert.ok(tally.runningAtKill >= KILLS * 0.8, `${tally.runningAtKill} kills hit a running run`);
  assert.ok(tally.resumes >= KILLS * 0.5, `${tally.resumes} resumes after a kill`);
});
