/**
 * NCCL start-up lines of rank 0 as `NCCL_DEBUG=INFO` prints them (REALISM 1.8): bootstrap,
 * network plugin, transport, communicator init, rings, channel counts, completion. Everything
 * (host, PID, bus ids, IB devices, rank and node counts) comes from the run's config.
 */
import { WARNINGS } from "../data.ts";
import { noise } from "../core/rng.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { fillWarning } from "../phases/warnings.ts";

function hex(seed: number, a: number, digits: number): string {
  let s = "";
  for (let i = 0; s.length < digits; i++) {
    s += Math.floor((noise(seed, a, i) + 1) * 0x7fffffff).toString(16).padStart(8, "0");
  }
  return s.slice(0, digits);
}

/** IPv4 address of a node on the cluster's management network. */
export function nodeIp(ctx: RunContext, node: number): string {
  const s = ctx.cfg.seed;
  const b = 1 + Math.floor((noise(s, 11) + 1) * 60);
  return `10.${b}.${Math.floor(node / 250)}.${10 + (node % 240)}`;
}

/** CPU affinity mask of a GPU's NUMA half, comma-grouped hex as NCCL prints it. */
function affinity(local: number, perNode: number): string {
  const half = local < perNode / 2 ? 0 : 1;
  const on = "ffffffff";
  const off = "00000000";
  return half === 0 ? `${off},${off},${on},${on}` : `${on},${on},${off},${off}`;
}

/** NCCL's channel counts for a node type (UNVERIFIED beyond the observed H100 line). */
function channels(ctx: RunContext): { coll: number; nvls: number; p2p: number; perPeer: number } {
  const g = ctx.cfg.gpu;
  if (g.nvlinkGBps === 0) return { coll: 2, nvls: 0, p2p: 2, perPeer: 2 };
  if (g.arch === "Hopper" || g.arch === "Blackwell") {
    return { coll: 24, nvls: ctx.cfg.gpusPerNode >= 8 ? 16 : 0, p2p: 32, perPeer: 8 };
  }
  return { coll: 16, nvls: 0, p2p: 32, perPeer: 8 };
}

export function ncclPrefix(ctx: RunContext, rank: number, thread: "main" | "init"): string {
  const c = ctx.cfg;
  const pid = c.site.pid + rank;
  const tid = thread === "main" ? pid : pid + 187 + (rank % 7);
  return `${ctx.host(Math.floor(rank / c.gpusPerNode))}:${pid}:${tid} [${rank % c.gpusPerNode}]`;
}

/** Rank 0's NCCL init, as beats spread over the engine's NCCL set-up time. */
export function ncclInitBeats(ctx: RunContext): Beat[] {
  const c = ctx.cfg;
  if (c.gpus <= 1) return [];
  const seed = c.seed;
  const main = ncclPrefix(ctx, 0, "main") + " NCCL INFO ";
  const init = ncclPrefix(ctx, 0, "init") + " NCCL INFO ";
  const ib = c.gpu.nic.kind === "IB";
  const ip = nodeIp(ctx, 0);
  const driver = c.gpu.cuda.split(".").map(Number);
  const driverVersion = (driver[0] ?? 12) * 1000 + (driver[1] ?? 0) * 10;
  const comm = `0x${hex(seed, 1, 12)}`;
  const commId = `0x${hex(seed, 2, 16)}`;
  const busId = `${c.gpu.busIds[0] ?? "18"}000`;
  const nics = Array.from(
    { length: c.gpu.nic.perNode },
    (_, i) => `[${i}]mlx5_${i}:1/${ib ? "IB" : "RoCE"}`,
  );
  const ch = channels(ctx);
  const warn = (id: string) => {
    const w = WARNINGS.find((x) => x.id === id);
    return w ? fillWarning(ctx, w, 0).join("\n") : "";
  };
  const lines: string[] = [
    main + `Bootstrap : Using eth0:${ip}<0>`,
    warn(noise(seed, 3) > 0 ? "nccl-no-plugin" : "nccl-plugin-load-failed"),
    main + `cudaDriverVersion ${driverVersion}`,
    `NCCL version ${c.site.ncclVersion}`,
  ];
  if (c.nodes > 1 || c.gpu.nvlinkGBps === 0) {
    if (ib || c.gpu.nic.kind === "RoCE") {
      lines.push(init + `NET/IB : Using ${nics.join(" ")} ; OOB eth0:${ip}<0>`);
    } else {
      lines.push(warn("nccl-no-ibverbs"), init + `NET/Socket : Using [0]eth0:${ip}<0>`);
    }
    lines.push(
      init + "Using non-device net plugin version 0",
      init + `Using network ${ib || c.gpu.nic.kind === "RoCE" ? "IB" : "Socket"}`,
    );
  }
  lines.push(
    init +
      `ncclCommInitRank comm ${comm} rank 0 nranks ${c.gpus} cudaDev 0 nvmlDev 0 busId ${busId} commId ${commId} - Init START`,
    init + `Setting affinity for GPU 0 to ${affinity(0, c.gpusPerNode)}`,
    init +
      `comm ${comm} rank 0 nRanks ${c.gpus} nNodes ${c.nodes} localRanks ${c.gpusPerNode} localRank 0 MNNVL 0`,
  );
  if (c.gpus <= 16) {
    const ring = Array.from({ length: c.gpus }, (_, r) => String(r).padStart(4)).join("");
    lines.push(init + `Channel 00/${String(ch.coll).padStart(2, "0")} :${ring}`);
  }
  lines.push(
    init + `P2P Chunksize set to ${c.nodes > 1 ? 131072 : 524288}`,
    init + "Connected all rings",
    init + "Connected all trees",
    warn("nccl-internal-tuner"),
    init +
      `${ch.coll} coll channels, ${ch.coll} collnet channels, ${ch.nvls} nvls channels, ${ch.p2p} p2p channels, ${ch.perPeer} p2p channels per peer`,
    init +
      `ncclCommInitRank comm ${comm} rank 0 nranks ${c.gpus} cudaDev 0 nvmlDev 0 busId ${busId} commId ${commId} - Init COMPLETE`,
  );
  const total = ctx.physics.ncclInitSeconds * 1000;
  const shown = lines.filter((l) => l.length > 0);
  return shown.map((text) => ({ wait: total / shown.length, text }));
}
