/**
 * How failures look, whichever framework runs: the NCCL watchdog taking a hung job down, the
 * torchrun elastic agent restarting the worker group (REALISM 1.7, 1.9), and PyTorch's
 * out-of-memory error with its traceback. Dialects add their own reload lines around these.
 */
import { WARNINGS } from "../data.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { agentPid, fillWarning, pythonPaths, workerPid } from "../phases/warnings.ts";
import { fixed, glogParts } from "../render/format.ts";

type Fault = Extract<RunEvent, { kind: "fault" }>;
type Restart = Extract<RunEvent, { kind: "restart" }>;

/** torch/distributed/elastic/agent/server/api.py line of its INFO lines, by torch release. */
const AGENT_LINE: Record<string, number> = { "2.4": 847, "2.5": 860, "2.6": 864, "2.7": 870 };

/**
 * One glog-style line of the torchrun agent of `node` (the first node's by default):
 * `I1126 10:12:31.123456 <agent pid> <path>:<line>] …`.
 */
export function agentLine(
  ctx: RunContext,
  level: "I" | "W" | "E",
  path: string,
  msg: string,
  node = 0,
) {
  const now = ctx.clock.now();
  const g = glogParts(now, ctx.tz, Math.floor(now * 3.7) % 1000);
  const line = path === AGENT
    ? AGENT_LINE[ctx.cfg.site.torchVersion.split(".").slice(0, 2).join(".")] ?? 860
    : 869;
  return `${level}${g.mmdd} ${g.hms} ${agentPid(ctx, node)} ${path}:${line}] ${msg}`;
}

/** The fault that took the current worker group down, and when (for torchrun's report). */
const LAST_FAULT = new WeakMap<RunContext, { fault: Fault; atMs: number; workers: number }>();

const AGENT = "torch/distributed/elastic/agent/server/api.py";

/** The hung rank's watchdog firing, the job coming down. */
export function faultBeats(ctx: RunContext, e: Fault): Beat[] {
  const w = WARNINGS.find((x) => x.id === "nccl-watchdog");
  const lines = w ? fillWarning(ctx, w, e.rank) : [];
  const seq = String(e.seqNum);
  const watchdog = lines.map((l) =>
    l.replaceAll("48213", seq).replaceAll("48214", String(e.seqNum + 1))
      .replaceAll("48212", String(e.seqNum - 1))
      .replaceAll("Timeout(ms)=600000", `Timeout(ms)=${e.timeoutMs}`)
      .replaceAll("ran for 600081", `ran for ${e.timeoutMs + 81}`)
  );
  const c = ctx.cfg;
  LAST_FAULT.set(ctx, { fault: e, atMs: ctx.clock.now(), workers: ctx.totals.restarts });
  // the hung rank's process aborts (its own agent reports it, in the lines above); the first
  // node's agent then stops its local workers (the others, if the hung rank is one of them)
  const local = Array.from({ length: Math.min(c.gpusPerNode, c.gpus) }, (_, r) => r)
    .filter((r) => r !== e.rank);
  return [
    { wait: 0, text: () => watchdog.join("\n") },
    {
      wait: 900,
      text: () =>
        local.map((r) =>
          agentLine(
            ctx,
            "W",
            "torch/distributed/elastic/multiprocessing/api.py",
            `Sending process ${workerPid(ctx, r)} closing signal SIGTERM`,
          )
        ).join("\n"),
    },
  ];
}

/** How torchrun names a signal that killed a worker (`exitcode` is minus its number). */
const SIGNALS: Record<number, string> = { 6: "SIGABRT", 9: "SIGKILL", 15: "SIGTERM" };

/** The elastic agent restarting the worker group (`--max-restarts 3`). */
export function restartBeats(ctx: RunContext, e: Restart): Beat[] {
  const c = ctx.cfg;
  const left = Math.max(0, 3 - (e.attempt - 1));
  const ranks = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(", ")}]`;
  const nodeRanks = Array.from({ length: c.gpusPerNode }, (_, i) => i);
  return [
    {
      wait: 2000,
      text: () =>
        agentLine(
          ctx,
          "I",
          AGENT,
          `[default] Worker group FAILED. ${left}/3 attempts left; will restart worker group`,
        ),
    },
    { wait: 300, text: () => agentLine(ctx, "I", AGENT, "[default] Stopping worker group") },
    {
      wait: 4000,
      text: () => agentLine(ctx, "I", AGENT, "[default] Rendezvous'ing worker group"),
    },
    {
      wait: 8000 + 20 * c.nodes,
      text: () =>
        [
          agentLine(ctx, "I", AGENT, "[default] Rendezvous complete for workers. Result:"),
          `  restart_count=${e.attempt}`,
          `  master_addr=${ctx.host(0)}`,
          `  master_port=${c.site.masterPort}`,
          `  group_rank=0`,
          `  group_world_size=${c.nodes}`,
          `  local_ranks=${ranks(c.gpusPerNode)}`,
          `  role_ranks=[${nodeRanks.join(", ")}]`,
          `  global_ranks=[${nodeRanks.join(", ")}]`,
          `  role_world_sizes=[${nodeRanks.map(() => c.gpus).join(", ")}]`,
          `  global_world_sizes=[${nodeRanks.map(() => c.gpus).join(", ")}]`,
          "",
        ].join("\n"),
    },
    { wait: 200, text: () => agentLine(ctx, "I", AGENT, "[default] Starting worker group") },
  ];
}

/**
 * PyTorch's out-of-memory error (≥ 2.4 wording), raised on every rank; rank 0's traceback is
 * printed. `frames` are the framework's call sites, outermost first: [file, line, function,
 * source line]; torch's own frames follow (the backward pass, or the copy that loads weights).
 */
export function oomBeats(
  ctx: RunContext,
  o: OutOfMemory,
  frames: [string, number, string, string][],
  /** How the script reaches torch: `loss.backward()`/`.to()`, or `torch.autograd.backward`/`.cuda()` (Megatron). */
  via: "tensor" | "direct" = "tensor",
): Beat[] {
  const { site } = pythonPaths(ctx);
  const module = `${site}/torch/nn/modules/module.py`;
  const load: [string, number, string, string][] = via === "direct"
    ? [
      [module, 1053, "cuda", "return self._apply(lambda t: t.cuda(device))"],
      [module, 1053, "<lambda>", "return self._apply(lambda t: t.cuda(device))"],
    ]
    : [
      [module, 1340, "to", "return self._apply(convert)"],
      [
        module,
        1326,
        "convert",
        "return t.to(device, dtype if t.is_floating_point() or t.is_complex() else None, non_blocking)",
      ],
    ];
  const backward: [string, number, string, string][] = [
    [`${site}/torch/autograd/__init__.py`, 347, "backward", "_engine_run_backward("],
    [
      `${site}/torch/autograd/graph.py`,
      825,
      "_engine_run_backward",
      "return Variable._execution_engine.run_backward(  # Calls into the C++ engine to run the backward pass",
    ],
  ];
  if (via === "tensor") {
    backward.unshift([`${site}/torch/_tensor.py`, 581, "backward", "torch.autograd.backward("]);
  }
  const torchFrames = o.phase === "load" ? load : backward;
  // PyTorch's format_size: GiB from 1 GiB up, MiB below
  const gib = (x: number) => (x >= 1 ? `${fixed(x, 2)} GiB` : `${fixed(x * 1024, 2)} MiB`);
  const lines = [
    `[rank0]: Traceback (most recent call last):`,
    ...[...frames, ...torchFrames].flatMap(([file, line, fn, src]) => [
      `[rank0]:   File "${file}", line ${line}, in ${fn}`,
      `[rank0]:     ${src}`,
    ]),
    `[rank0]: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate ${
      gib(o.tryGiB)
    }. GPU 0 has a total capacity of ${gib(o.totalGiB)} of which ${
      gib(o.freeGiB)
    } is free. Including non-PyTorch memory, this process has ${
      gib(o.inUseGiB)
    } memory in use. Of the allocated memory ${gib(o.allocatedGiB)} is allocated by PyTorch, and ${
      gib(o.reservedFreeGiB)
    } is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)`,
  ];
  return [{ wait: 0, text: lines.join("\n") }];
}

/**
 * torchrun's closing report when a worker exits with an error and no restarts are left, by the
 * agent of the failed worker's node: the rank whose watchdog took the group down (the last
 * fault), or rank 0 for an error every rank raises (out of memory).
 */
export function childFailedBeats(ctx: RunContext, script: string, exitcode: number): Beat[] {
  const c = ctx.cfg;
  const last = LAST_FAULT.get(ctx);
  const fault = last && last.workers === ctx.totals.restarts ? last : null;
  const rank = fault ? fault.fault.rank : 0;
  const node = Math.floor(rank / c.gpusPerNode);
  const local = rank % c.gpusPerNode;
  const pid = workerPid(ctx, rank);
  const now = fault ? fault.atMs : ctx.clock.now();
  const g = glogParts(now, ctx.tz, 0);
  const day = new Date(now + ctx.tz * 60000).toISOString().slice(0, 10);
  const rule = "=".repeat(60);
  const dash = "-".repeat(60);
  const { python } = pythonPaths(ctx);
  const signal = exitcode < 0 ? SIGNALS[-exitcode] : undefined;
  return [{
    wait: 1500,
    text: () =>
      [
        // a fault's agent already reported the failed worker with the watchdog's lines
        ...(fault ? [] : [
          agentLine(
            ctx,
            "E",
            "torch/distributed/elastic/multiprocessing/api.py",
            `failed (exitcode: ${exitcode}) local_rank: ${local} (pid: ${pid}) of binary: ${python}`,
            node,
          ),
        ]),
        "Traceback (most recent call last):",
        `  File "/usr/local/bin/torchrun", line 8, in <module>`,
        "    sys.exit(main())",
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ",
        rule,
        `${script} FAILED`,
        dash,
        "Failures:",
        "  <NO_OTHER_FAILURES>",
        dash,
        "Root Cause (first observed failure):",
        "[0]:",
        `  time      : ${day}_${g.hms.slice(0, 8)}`,
        `  host      : ${ctx.host(node)}`,
        `  rank      : ${rank} (local_rank: ${local})`,
        `  exitcode  : ${exitcode} (pid: ${pid})`,
        "  error_file: <N/A>",
        signal
          ? `  traceback : Signal ${-exitcode} (${signal}) received by PID ${pid}`
          : "  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html",
        rule,
      ].join("\n"),
  }];
}
