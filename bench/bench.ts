/**
 * `deno task bench`: speed and memory of the show, measured in one run against a Deno hello
 * world measured in the same run. Prints a Markdown table; with `--write` it also replaces the
 * table between the bench markers in README.md.
 *
 *   time to first byte      llm-sim (piped) ÷ hello world, medians of 9 runs
 *   CPU % of one core       the show at speed 1 in a 120×40 pty, from 5 s to 35 s
 *   output bytes/s          the same window, bytes the pty received
 *   peak RSS                the show's VmHWM after 35 s ÷ hello world's
 *   instant lines/s         a 10,000-step run with --instant to /dev/null
 *   JSONL events/s          the same run with --format jsonl
 *   monitor                 bytes/s and CPU % watching a 64-GPU run, against full redraws
 *   generate                the n-gram model's build time and the sampler's tokens/s
 */
import { GPUS, MODELS } from "../lib/data.ts";
import { decodeSeconds } from "../lib/engine/inference.ts";

const DENO = Deno.execPath();
const ROOT = new URL("../", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const HELLO = `${ROOT}bench/hello.ts`;
const dec = new TextDecoder();
const CLK_TCK = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Milliseconds from spawn to the first stdout byte. */
async function firstByte(args: string[]): Promise<number> {
  const t0 = performance.now();
  const child = new Deno.Command(DENO, {
    args: ["run", "--no-prompt", ...args],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  const ms = performance.now() - t0;
  reader.releaseLock();
  await child.stdout.cancel();
  try {
    child.kill("SIGTERM");
  } catch {
    // already gone
  }
  await child.status;
  return ms;
}

function procStat(pid: number): { ticks: number; hwmKiB: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { ticks, hwmKiB: hwm };
}

function childPid(parent: number): number | null {
  const out = new Deno.Command("pgrep", { args: ["-P", String(parent)], stdout: "piped" })
    .outputSync();
  const pid = Number(dec.decode(out.stdout).trim().split("\n")[0]);
  return Number.isFinite(pid) && pid > 0 ? pid : null;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** A command in a 120×40 pty: CPU %, bytes/s over [warm, warm + measure] ms, peak RSS. */
async function inPty(
  command: string,
  warmMs: number,
  measureMs: number,
  quit: string,
): Promise<{ cpu: number; bytesPerSec: number; rssMiB: number }> {
  const child = new Deno.Command("script", {
    args: ["-qefc", `stty cols 120 rows 40; exec ${command}`, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "", TERM: "xterm-256color" },
  }).spawn();
  let bytes = 0;
  const reader = child.stdout.getReader();
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.length;
    }
  })();
  let pid: number | null = null;
  for (let i = 0; i < 100 && pid === null; i++) {
    await sleep(50);
    pid = childPid(child.pid);
  }
  if (pid === null) throw new Error(`could not find the process of: ${command}`);
  await sleep(warmMs - 50);
  const a = procStat(pid);
  const bytesA = bytes;
  const t0 = performance.now();
  await sleep(measureMs);
  const b = procStat(pid);
  const secs = (performance.now() - t0) / 1000;
  const bytesB = bytes;
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(quit));
  await writer.close();
  await child.status;
  return {
    cpu: (100 * (b.ticks - a.ticks)) / CLK_TCK / secs,
    bytesPerSec: (bytesB - bytesA) / secs,
    rssMiB: b.hwmKiB / 1024,
  };
}

/** The show at speed 1 in a 120×40 pty: CPU %, bytes/s over 5–35 s, and peak RSS. */
function showInPty() {
  return inPty(`${DENO} run --no-prompt ${MAIN} --seed 2`, 5000, 30000, "\x03");
}

/**
 * `llm-sim monitor` watching a 64-GPU run (8 × 8 H100) at 4 refreshes/s in a 120×40 pty, and
 * the same monitor painting every frame whole (the baseline): bytes/s and CPU % over 20 s.
 */
async function monitorInPty(): Promise<{ diff: PtyFigures; full: PtyFigures }> {
  const dir = Deno.makeTempDirSync({ prefix: "llm-sim-bench-" });
  const runs = `${dir}/runs`;
  const perms = [`--allow-read=${runs}`, `--allow-write=${runs}`, `--allow-run=${DENO}`];
  const started = await new Deno.Command(DENO, {
    args: [
      "run",
      "--no-prompt",
      ...perms,
      MAIN,
      "train",
      "--runs-dir",
      runs,
      "--detach",
      "--device",
      "H100",
      "--gpus",
      "64",
      "--model",
      "llama-3.2-1b",
      "--dataset",
      "tinystories",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const pid = Number(/\(pid (\d+)\)/.exec(dec.decode(started.stdout))?.[1]);
  if (!pid) throw new Error(`could not start the 64-GPU run: ${dec.decode(started.stderr)}`);
  try {
    const monitor = (extra: string) =>
      inPty(
        `${DENO} run --no-prompt ${perms.join(" ")} ${MAIN} monitor --runs-dir ${runs}${extra}`,
        15000,
        20000,
        "q",
      );
    const diff = await monitor("");
    const full = await monitor(" --full-redraw");
    return { diff, full };
  } finally {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
    Deno.removeSync(dir, { recursive: true });
  }
}

type PtyFigures = Awaited<ReturnType<typeof inPty>>;

async function helloRss(): Promise<number> {
  const child = new Deno.Command(DENO, {
    args: ["run", HELLO],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await sleep(600);
  const { hwmKiB } = procStat(child.pid);
  await child.status;
  return hwmKiB / 1024;
}

/** Lines/s (events/s with --jsonl) of a 10,000-step run, cold and warm: medians of 5 processes. */
async function instantLines(jsonl = false): Promise<{ cold: number; warm: number }> {
  const cold: number[] = [], warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = await new Deno.Command(DENO, {
      args: ["run", "--no-prompt", `${ROOT}bench/instant.ts`, ...(jsonl ? ["--jsonl"] : [])],
      stdout: "null",
      stderr: "piped",
    }).output();
    const [lines, c, w] = dec.decode(out.stderr).trim().split(" ").map(Number);
    cold.push((lines ?? 0) / ((c ?? 1) / 1000));
    warm.push((lines ?? 0) / ((w ?? 1) / 1000));
  }
  return { cold: median(cold), warm: median(warm) };
}

/** n-gram build ms (cold process) and sampler tokens/s at orders 1 and 4: medians of 5. */
async function sampler(): Promise<{ build: number; uni: number; four: number }> {
  const build: number[] = [], uni: number[] = [], four: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = await new Deno.Command(DENO, {
      args: ["run", "--no-prompt", `${ROOT}bench/generate.ts`],
      stdout: "null",
      stderr: "piped",
    }).output();
    const v = dec.decode(out.stderr).trim().split(" ").map(Number);
    build.push(v[0] ?? NaN);
    uni.push(v[1] ?? NaN);
    four.push(v[4] ?? NaN);
  }
  return { build: median(build), uni: median(uni), four: median(four) };
}

const write = Deno.args.includes("--write");
const log = (s: string) => Deno.stderr.writeSync(new TextEncoder().encode(s + "\n"));

log("time to first byte …");
const helloTtfb: number[] = [], showTtfb: number[] = [];
for (let i = 0; i < 9; i++) {
  helloTtfb.push(await firstByte([HELLO]));
  showTtfb.push(await firstByte([MAIN, "--seed", "1"]));
}
const ttfbHello = median(helloTtfb), ttfbShow = median(showTtfb);
log("instant lines/s …");
const inst = await instantLines();
log("instant JSONL events/s …");
const events = await instantLines(true);
log("hello-world memory …");
log("monitor on a 64-GPU run, diff and full redraw, 2 × 35 s …");
const mon = await monitorInPty();
log("generate: model build and sampler …");
const gen = await sampler();
const gpt2OnA30 = 1 / decodeSeconds(
  MODELS.find((m) => m.id === "gpt2")!.arch,
  GPUS.find((g) => g.id === "a30")!,
  "bf16",
);
const rssHello = await helloRss();
log("the show at speed 1 in a 120×40 pty for 35 s …");
const pty = await showInPty();

const row = (what: string, value: string, baseline: string, ratio: string, target: string) =>
  `| ${what} | ${value} | ${baseline} | ${ratio} | ${target} |`;
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${Deno.build.os}/${Deno.build.arch}, ` +
  `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}.`,
  "",
  "| measure | llm-sim | hello-world baseline | ratio | target |",
  "|---|---|---|---|---|",
  row(
    "time to first byte (piped)",
    `${ttfbShow.toFixed(1)} ms`,
    `${ttfbHello.toFixed(1)} ms`,
    `${(ttfbShow / ttfbHello).toFixed(2)}×`,
    "—",
  ),
  row(
    "CPU, % of one core (speed 1, 120×40 pty, 30 s)",
    `${pty.cpu.toFixed(2)} %`,
    "—",
    "—",
    "≤ 0.5 %",
  ),
  row("output (same window)", `${(pty.bytesPerSec / 1024).toFixed(2)} KB/s`, "—", "—", "≤ 2 KB/s"),
  row(
    "peak RSS",
    `${pty.rssMiB.toFixed(1)} MiB`,
    `${rssHello.toFixed(1)} MiB`,
    `${(pty.rssMiB / rssHello).toFixed(2)}×`,
    "—",
  ),
  row(
    "instant mode, 10,000-step run, cold process",
    `${Math.round(inst.cold).toLocaleString("en-US")} lines/s`,
    "—",
    "—",
    "≥ 300,000 lines/s",
  ),
  row(
    "instant mode, 10,000-step run, warm process",
    `${Math.round(inst.warm).toLocaleString("en-US")} lines/s`,
    "—",
    "—",
    "≥ 300,000 lines/s",
  ),
  row(
    "`--instant --format jsonl`, 10,000-step run, cold process",
    `${Math.round(events.cold).toLocaleString("en-US")} events/s`,
    "—",
    "—",
    "≥ 1,000,000 events/s",
  ),
  row(
    "`--instant --format jsonl`, 10,000-step run, warm process",
    `${Math.round(events.warm).toLocaleString("en-US")} events/s`,
    "—",
    "—",
    "≥ 1,000,000 events/s",
  ),
  row(
    "`monitor`, 64-GPU run, 4 refreshes/s, 120×40: output",
    `${(mon.diff.bytesPerSec / 1024).toFixed(2)} KB/s`,
    `${(mon.full.bytesPerSec / 1024).toFixed(2)} KB/s (every frame painted whole)`,
    `${(mon.diff.bytesPerSec / mon.full.bytesPerSec).toFixed(3)}×`,
    "≤ 8 KB/s",
  ),
  row(
    "`monitor`, same: CPU, % of one core",
    `${mon.diff.cpu.toFixed(2)} %`,
    `${mon.full.cpu.toFixed(2)} %`,
    `${(mon.diff.cpu / mon.full.cpu).toFixed(2)}×`,
    "≤ 2 %",
  ),
  row(
    "`generate`: n-gram model build (Moby-Dick, 4-grams), cold process",
    `${Math.round(gen.build)} ms`,
    "—",
    "—",
    "< 1,000 ms",
  ),
  row(
    "`generate`: sampler, top-p 0.95, unigram / 4-gram context",
    `${Math.round(gen.uni)} / ${Math.round(gen.four)} tokens/s`,
    "—",
    "—",
    `≥ ${Math.round(gpt2OnA30)} tokens/s (GPT-2 decoding on an A30)`,
  ),
].join("\n");
// deno-lint-ignore no-console
console.log(table);
if (write) {
  const readme = `${ROOT}README.md`;
  const text = await Deno.readTextFile(readme);
  const start = "<!-- bench:start -->", end = "<!-- bench:end -->";
  const i = text.indexOf(start), j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error("README.md has no bench markers");
  await Deno.writeTextFile(
    readme,
    text.slice(0, i + start.length) + "\n" + table + "\n" + text.slice(j),
  );
  // the table as `deno fmt` lays it out, so the README stays formatted
  const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", readme] }).output();
  if (!fmt.success) {
    throw new Error(`deno fmt README.md failed: ${new TextDecoder().decode(fmt.stderr)}`);
  }
  log("README.md updated");
}
