/**
 * NCCL start-up lines of rank 0 as `NCCL_DEBUG=INFO` prints them (REALISM 1.8): bootstrap,
 * network plugin, transport, communicator init, rings, channel counts, completion. Everything
 * (host, PID, bus ids, IB devices, rank and node counts) comes from the run's config.
 */
import { WARNINGS } from "../data.ts";
import { noise } from "../core/rng.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import { fillWarning, workerPid } from "../phases/warnings.ts";

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

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** NCCL's `dumpLine`: a 128-byte buffer holds the prefix and 28 four-column ranks at most. */
const RING_SHOWN = 28;

/**
 * Ring `k` as rank 0 sees it: it walks its own node first (ascending on even channels,
 * descending on odd ones), then every other node from the GPU nearest that channel's NIC, and
 * back. `shown` is what the ring line prints; `next`/`prev` are rank 0's neighbours.
 */
function ringOf(k: number, gpus: number, perNode: number) {
  const nodes = Math.ceil(gpus / perNode);
  const localAt = (node: number, i: number) => {
    const start = node === 0 ? 0 : k % perNode;
    const step = k % 2 === 0 ? i : perNode - i;
    return node * perNode + ((start + step) % perNode);
  };
  const rankAt = (i: number) => localAt(Math.floor(i / perNode), i % perNode);
  const shown = Array.from({ length: Math.min(gpus, RING_SHOWN) }, (_, i) => rankAt(i));
  return { shown, next: rankAt(1 % gpus), prev: rankAt(gpus - 1), nodes };
}

/**
 * Rank 0's place in tree `k` (`down0/down1/down2->0->up`, -1 for none): the head of a chain
 * through its node; across nodes NCCL's double binary tree makes it the root of one tree (the
 * first node's child below it) and a leaf under that node in the other.
 */
function treeOf(k: number, nodes: number, perNode: number): string {
  const [down, up] = treeLinks(k, nodes, perNode);
  return `${down[0] ?? -1}/${down[1] ?? -1}/-1->0->${up}`;
}

function treeLinks(k: number, nodes: number, perNode: number): [number[], number] {
  const down = perNode > 1 ? [1] : [];
  if (nodes === 1) return [down, -1];
  return k % 2 === 0 ? [[...down, perNode], -1] : [down, perNode];
}

/** The ranks rank 0 connects to in tree `k`. */
function treePeers(k: number, nodes: number, perNode: number): number[] {
  const [down, up] = treeLinks(k, nodes, perNode);
  return up >= 0 ? [...down, up] : down;
}

export function ncclPrefix(ctx: RunContext, rank: number, thread: "main" | "init"): string {
  const c = ctx.cfg;
  const pid = workerPid(ctx, rank);
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
  // a restarted worker group is new processes with a new communicator: new address, new id
  const gen = ctx.totals.restarts * 1000;
  const comm = `0x${hex(seed, 1 + gen, 12)}`;
  const commId = `0x${hex(seed, 2 + gen, 16)}`;
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
  // rank 0's view of the topology: every ring (NCCL prints at most 28 ranks of each), its
  // trees, then the connections it sets up to its neighbours on every channel
  const rings = Array.from({ length: ch.coll }, (_, k) => ringOf(k, c.gpus, c.gpusPerNode));
  rings.forEach((r, k) => {
    const head = `Channel ${two(k)}/${two(ch.coll)} :`;
    lines.push(init + head + r.shown.map((x) => String(x).padStart(4)).join(""));
  });
  lines.push(
    init + "Trees" + rings.map((_, k) => ` [${k}] ${treeOf(k, c.nodes, c.gpusPerNode)}`).join(""),
  );
  lines.push(init + `P2P Chunksize set to ${c.nodes > 1 ? 131072 : 524288}`);
  const at = (r: number) => `${r}[${r % c.gpusPerNode}]`;
  const local = (peer: number) => Math.floor(peer / c.gpusPerNode) === 0;
  const nvlink = c.gpu.nvlinkGBps > 0;
  const [major = 2, minor = 0] = c.site.ncclVersion.split(".").map(Number);
  const p2p = !nvlink
    ? "SHM/direct/direct"
    : major > 2 || minor >= 19
    ? "P2P/CUMEM/read"
    : "P2P/IPC/read";
  const net = (k: number) =>
    ib || c.gpu.nic.kind === "RoCE"
      ? `NET/IB/${k % Math.min(2, c.gpu.nic.perNode)}/GDRDMA`
      : `NET/Socket/${k % Math.min(2, c.gpu.nic.perNode)}`;
  // both directions with a peer: NET logs each side, P2P only the send (its peer logs the other)
  const connect = (k: number, peer: number) => {
    const ch = `Channel ${two(k)}/0 : `;
    return local(peer) ? [init + `${ch}${at(0)} -> ${at(peer)} via ${p2p}`] : [
      init + `${ch}${at(peer)} -> ${at(0)} [receive] via ${net(k)}`,
      init + `${ch}${at(0)} -> ${at(peer)} [send] via ${net(k)}`,
    ];
  };
  rings.forEach((r, k) => {
    // a ring sends to its next rank and receives from its previous one (P2P logs the send)
    lines.push(...connect(k, r.next).slice(-1));
    if (!local(r.prev)) {
      lines.push(init + `Channel ${two(k)}/0 : ${at(r.prev)} -> ${at(0)} [receive] via ${net(k)}`);
    }
  });
  lines.push(init + "Connected all rings");
  rings.forEach((_, k) => {
    for (const peer of treePeers(k, c.nodes, c.gpusPerNode)) lines.push(...connect(k, peer));
  });
  lines.push(
    init + "Connected all trees",
    init + `threadThresholds 8/8/64 | ${8 * c.gpus}/8/64 | 512 | 512`,
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
