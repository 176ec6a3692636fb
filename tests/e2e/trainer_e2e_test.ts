/**
 * The trainer workflow through the real program: train --detach → status shows progress over
 * time → stop → resume --more-epochs 2 → completed with exactly 2 more epochs; the JSON status
 * schema; one-line refusals of bad input; permissions asked for by name.
 */
import assert from "node:assert/strict";
import { UsageError } from "../../lib/cli/errors.ts";
import { prepareResume, savedCheckpoint } from "../../lib/shell/trainer.ts";
import { RunStore } from "../../lib/store/disk.ts";
import { stripAnsi } from "../../lib/term/ansi.ts";
import { has, MAIN, PtyProcess, q, runMain, waitFor } from "./_run.ts";

const DENO = Deno.execPath();

function workspace() {
  const dir = Deno.makeTempDirSync({ prefix: "llm-sim-train-" });
  const perms = ["--allow-read=runs", "--allow-write=runs", `--allow-run=${DENO}`];
  const run = (args: string[], extra: string[] = []) =>
    runMain(args, { cwd: dir, denoFlags: [...perms, ...extra] });
  const status = async (id: string) => {
    const r = await run(["status", id, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  return { dir, run, status, done: () => Deno.removeSync(dir, { recursive: true }) };
}

/** `status --json`: every documented field, with its type. */
const STATUS_SCHEMA: Record<string, string> = {
  id: "string",
  status: "string",
  alive: "boolean",
  pid: "number|null",
  reason: "string|null",
  model: "string",
  dataset: "string",
  precision: "string",
  device: "object",
  epoch: "number",
  epochs: "number",
  step: "number",
  total_steps: "number",
  progress: "number",
  loss: "number|null",
  val_loss: "number|null",
  val_step: "number|null",
  lr: "number|null",
  tokens_per_s: "number|null",
  elapsed_s: "number",
  eta: "string|null",
  remaining_s: "number|null",
  last_checkpoint: "number|null",
  checkpoints: "object",
  gpu: "object|null",
  resumes: "number",
  created_at: "string",
  started_at: "string|null",
  updated_at: "string",
  ended_at: "string|null",
  run_dir: "string",
};

function assertSchema(v: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(v).sort(), Object.keys(STATUS_SCHEMA).sort());
  for (const [k, t] of Object.entries(STATUS_SCHEMA)) {
    const actual = v[k] === null ? "null" : typeof v[k];
    assert.ok(t.split("|").includes(actual), `${k}: ${actual}, documented ${t}`);
  }
  const d = v.device as Record<string, unknown>;
  for (const k of ["requested", "selected", "name", "kind"]) assert.equal(typeof d[k], "string");
  assert.equal(typeof d.count, "number");
  assert.ok(Array.isArray(v.checkpoints));
  if (v.gpu !== null) {
    for (const k of ["util", "mem_used_mib", "mem_total_mib", "power_w", "temp_c"]) {
      assert.equal(typeof (v.gpu as Record<string, unknown>)[k], "number", k);
    }
  }
}

Deno.test("train --detach → status shows progress → stop → resume --more-epochs 2 → completed", async () => {
  const w = workspace();
  try {
    const started = await w.run(["train", "--detach", "--speed", "8", "--epochs", "3"]);
    assert.equal(started.code, 0, started.stderr);
    const m = /^started run (\S+) in the background \(pid (\d+)\)$/m.exec(started.stdout);
    assert.ok(m, started.stdout);
    const id = m[1]!;
    // progress over time: the step grows between two looks
    const first = await waitFor(
      async () => {
        const s = await w.status(id);
        return s.status === "running" && (s.step as number) > 0 ? s : null;
      },
      30_000,
      "the run to take steps",
    );
    assertSchema(first);
    assert.equal(first.alive, true);
    assert.equal(first.pid, Number(m[2]));
    const later = await waitFor(
      async () => {
        const s = await w.status(id);
        return (s.step as number) > (first.step as number) ? s : null;
      },
      30_000,
      "more steps",
    );
    assert.ok((later.elapsed_s as number) >= (first.elapsed_s as number));
    assert.equal(typeof later.eta, "string", "an ETA while running");
    const text = await w.run(["status", id]);
    assert.match(text.stdout, /^status {5}running \(pid \d+\)$/m);
    assert.match(text.stdout, /^device {5}cuda:0 NVIDIA A30 \(requested: auto\)$/m);

    const stopped = await w.run(["stop", id]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const s1 = await w.status(id);
    assertSchema(s1);
    assert.equal(s1.status, "stopped");
    assert.equal(s1.alive, false);
    assert.equal(s1.last_checkpoint, s1.step, "stop saved the step it ended on");
    const ckpt = s1.step as number;
    assert.ok(ckpt < (s1.total_steps as number), "stopped before the end");

    const resumed = await w.run(["resume", id, "--more-epochs", "2", "--instant"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const s2 = await w.status(id);
    assertSchema(s2);
    assert.equal(s2.status, "completed");
    assert.equal(s2.resumes, 1);
    const meta = JSON.parse(Deno.readTextFileSync(`${w.dir}/runs/${id}/meta.json`));
    const perEpoch = meta.hidden.samples_per_epoch / meta.hidden.global_batch;
    assert.equal(s2.step, ckpt + 2 * perEpoch, "exactly 2 more epochs");
    assert.equal(s2.total_steps, ckpt + 2 * perEpoch);

    // metrics.jsonl: after the resume marker the steps go on from the checkpoint, every step
    // with its consumed samples
    const events = Deno.readTextFileSync(`${w.dir}/runs/${id}/metrics.jsonl`).trimEnd()
      .split("\n").map((l) => JSON.parse(l));
    const at = events.findLastIndex((e) => e.event === "resume");
    assert.equal(events[at].from_step, ckpt);
    const steps = events.slice(at).filter((e) => e.event === "step");
    assert.deepEqual(
      steps.map((e) => e.step),
      Array.from({ length: 2 * perEpoch }, (_, i) => ckpt + 1 + i),
    );
    for (const e of steps) assert.equal(e.samples, e.step * meta.hidden.global_batch);
    const log = Deno.readTextFileSync(`${w.dir}/runs/${id}/train.log`);
    assert.ok(!log.includes("\x1b"), "train.log has no escape codes");
    assert.match(log, /Stop requested: stopping at step \d+\/\d+ after saving a checkpoint/);
    assert.match(log, new RegExp(`Resuming at step ${ckpt} .*2 more epochs`));
  } finally {
    w.done();
  }
});

Deno.test("bad input: one line on stderr, exit 2, nothing lost", async () => {
  const w = workspace();
  try {
    const bad = async (args: string[], want: RegExp, extra: string[] = []) => {
      const r = await w.run(args, extra);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, want);
    };
    Deno.writeTextFileSync(`${w.dir}/llm-sim.toml`, "[data]\nbatchsize = 8\n");
    await bad(
      ["train", "--config", "llm-sim.toml"],
      /llm-sim\.toml:2: unknown key 'batchsize' in \[data\] \(did you mean 'batch_size'\?\)/,
      ["--allow-read=llm-sim.toml"],
    );
    await bad(
      ["train", "--config", "nope.toml"],
      /reading the config 'nope\.toml' needs --allow-read=nope\.toml/,
    );
    await bad(["train", "--config", "nope.toml"], /cannot read config 'nope\.toml': no such file/, [
      "--allow-read=nope.toml",
    ]);
    await bad(["status"], /no runs in runs yet/);
    // a finished run, then a broken one next to it
    const ok = await w.run(["train", "--instant", "--epochs", "1", "--dataset", "tinyshakespeare"]);
    assert.equal(ok.code, 0, ok.stderr);
    const id = /Run (\S+) · runs\//.exec(ok.stdout)![1]!;
    await bad(["status", id.slice(0, -1) + "x"], /unknown run '.*' \(did you mean /);
    await bad(["resume", id, "--more-epochs", "0"], /--more-epochs must be a whole number from 1/);
    await bad(
      ["resume", id, "--more-epochs", "1", "--checkpoint", "3"],
      /no checkpoint at step 3 \(saved: step-\d+\)/,
    );
    await bad(["stop", id], /is not running \(completed\)/);
    Deno.mkdirSync(`${w.dir}/runs/broken`);
    Deno.writeTextFileSync(`${w.dir}/runs/broken/meta.json`, "{");
    Deno.writeTextFileSync(`${w.dir}/runs/broken/state.json`, "{}");
    await bad(["status", "broken"], /runs\/broken\/(meta|state)\.json: /);
    const list = await w.run(["runs"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      new RegExp(`^${id} +completed +gpt2`, "m"),
      "the good run still lists",
    );
    assert.match(list.stdout, /^broken +broken +runs\/broken\/(meta|state)\.json: /m);
    // without permissions: say which, before touching anything
    const bare = await runMain(["status"], { cwd: w.dir });
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /needs permissions: deno run --allow-read=runs/);
  } finally {
    w.done();
  }
});

Deno.test("resume of a running run is refused: it is locked", async () => {
  const w = workspace();
  try {
    const started = await w.run(["train", "--detach", "--speed", "2"]);
    assert.equal(started.code, 0, started.stderr);
    const id = /^started run (\S+)/m.exec(started.stdout)![1]!;
    const r = await w.run(["resume", id, "--more-epochs", "1"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is (running|queued).* and locked; stop it first: llm-sim stop /);
    const stop = await w.run(["stop", id]);
    assert.equal(stop.code, 0, stop.stderr);
  } finally {
    w.done();
  }
});

Deno.test("a second resume while the first is queued is refused, not after its worker died; latest is the run's last save", async () => {
  const w = workspace();
  try {
    const r = await w.run(["train", "--instant", "--epochs", "2", "--dataset", "tinyshakespeare"]);
    assert.equal(r.code, 0, r.stderr);
    const id = / - Run (\S+) · /.exec(r.stdout)![1]!;
    const store = new RunStore(`${w.dir}/runs`);
    const saved = store.checkpoints(id);
    assert.ok(saved.length >= 2, `two saves: ${saved}`);
    // resumed from its first save: from then on that is "latest", not the later save on disk
    const state = store.state(id);
    const latest = () => savedCheckpoint(store, id, "latest", "none saved");
    assert.equal(latest(), saved.at(-1));
    const first = prepareResume(store, id, saved[0]!, 1);
    assert.equal(first.step, saved[0]);
    assert.equal(store.state(id).status, "queued");
    assert.equal(latest(), saved[0]);
    assert.throws(
      () => prepareResume(store, id, "latest", 1),
      (e: unknown) => e instanceof UsageError && /is already queued to resume/.test(e.message),
    );
    assert.equal(store.state(id).resumes, state.resumes + 1, "queued once");
    // its worker took the lock (the lock file names it) and was killed before it said running:
    // the run is not being resumed by anyone, so it can be
    Deno.writeTextFileSync(store.paths(id).lock, "999999\n");
    assert.equal(prepareResume(store, id, "latest", 1).step, saved[0]);
    assert.equal(store.state(id).resumes, state.resumes + 2);
  } finally {
    w.done();
  }
});

Deno.test({
  name: "train on a TTY: Ctrl-C finishes the step, saves, exits 130 with the cursor back",
  ignore: !(Deno.build.os === "linux" && has("script")),
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "llm-sim-tty-" });
    try {
      const runs = `${dir}/runs`;
      const cmd = [
        DENO,
        "run",
        "--no-prompt",
        `--allow-read=${runs}`,
        `--allow-write=${runs}`,
        MAIN,
        "train",
        "--runs-dir",
        runs,
        "--speed",
        "4",
      ].map(q).join(" ");
      const p = new PtyProcess(cmd);
      await waitFor(
        () => /\[train\]\[INFO\] - step \d+\/219/.test(stripAnsi(p.output)),
        30_000,
        "a step line",
      );
      await p.send("\x03");
      const { code } = await p.wait();
      assert.equal(code, 130);
      const plain = stripAnsi(p.output);
      assert.match(plain, /stop requested: finishing this step and saving a checkpoint/);
      assert.match(plain, /Stop requested: stopping at step \d+\/219 after saving a checkpoint/);
      assert.ok(
        p.output.lastIndexOf("\x1b[?25h") > p.output.lastIndexOf("\x1b[?25l"),
        "cursor shown",
      );
      const r = await runMain(["status", "--json", "--runs-dir", runs], {
        denoFlags: [`--allow-read=${runs}`],
      });
      const s = JSON.parse(r.stdout);
      assert.equal(s.status, "stopped");
      assert.equal(s.last_checkpoint, s.step);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("logs -f follows a run to its end; init-config writes once; $LLM_SIM_RUNS picks the directory", async () => {
  const w = workspace();
  try {
    const init = await runMain(["init-config"], {
      cwd: w.dir,
      denoFlags: ["--allow-write=llm-sim.toml"],
    });
    assert.equal(init.code, 0, init.stderr);
    assert.match(Deno.readTextFileSync(`${w.dir}/llm-sim.toml`), /^\[train\]\n#.*\nepochs = 3$/m);
    const again = await runMain(["init-config"], {
      cwd: w.dir,
      denoFlags: ["--allow-write=llm-sim.toml"],
    });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /llm-sim\.toml already exists \(--force overwrites it\)/);
    // the file is used when readable: epochs from it, dataset from a flag
    Deno.writeTextFileSync(`${w.dir}/llm-sim.toml`, "[train]\nepochs = 1\n");
    const started = await w.run(
      ["train", "--detach", "--speed", "30", "--dataset", "tinyshakespeare"],
      ["--allow-read=llm-sim.toml"],
    );
    assert.equal(started.code, 0, started.stderr);
    const id = /^started run (\S+)/m.exec(started.stdout)![1]!;
    const follow = await w.run(["logs", id, "-f"]);
    assert.equal(follow.code, 0, follow.stderr);
    assert.match(follow.stdout, /Starting training: 1 epoch × \d+ steps/);
    assert.match(follow.stdout, /Training finished: \d+ steps in /, "followed to the end");
    assert.equal(follow.stdout, Deno.readTextFileSync(`${w.dir}/runs/${id}/train.log`));
    const viaEnv = await runMain(["runs"], {
      cwd: w.dir,
      denoFlags: ["--allow-read=runs", "--allow-env=LLM_SIM_RUNS"],
      env: { LLM_SIM_RUNS: "runs" },
    });
    assert.match(viaEnv.stdout, new RegExp(`^${id} +completed `, "m"));
    const elsewhere = await runMain(["runs"], {
      cwd: w.dir,
      denoFlags: ["--allow-read=other", "--allow-env=LLM_SIM_RUNS"],
      env: { LLM_SIM_RUNS: "other" },
    });
    assert.equal(elsewhere.stdout, "no runs in other yet (start one with llm-sim train)\n");
  } finally {
    w.done();
  }
});
