/** The cluster: nodes, hosts, interconnect bandwidth. */
import type { GpuSpec } from "../data.ts";

/** NCCL all-reduce bus bandwidth efficiency over NVLink and over the scale-out network. */
const NVLINK_EFFICIENCY = 0.85;
const NETWORK_EFFICIENCY = 0.9;
/** GPUs without NVLink reduce over PCIe (Gen4 x16 ≈ 25 GB/s usable per direction). */
const PCIE_BUS_GBPS = 22;

/** Scale-out bandwidth of one node in GB/s (all NICs, one direction). */
export function nodeNetworkGBps(gpu: GpuSpec): number {
  return (gpu.nic.gbps * gpu.nic.perNode) / 8;
}

/**
 * All-reduce bus bandwidth (nccl-tests `busbw`, GB/s) for a communicator of `ranks` GPUs.
 * Inside one node it is NVLink's one-direction bandwidth times an efficiency; across nodes the
 * rings leave each node through its NICs, so the node's network bandwidth caps it; very large
 * jobs lose a little more to fabric congestion and tree latency.
 */
export function allReduceBusBandwidth(gpu: GpuSpec, ranks: number): number {
  const intra = gpu.nvlinkGBps > 0 ? (gpu.nvlinkGBps / 2) * NVLINK_EFFICIENCY : PCIE_BUS_GBPS;
  if (ranks <= gpu.gpusPerNode) return intra;
  const nodes = Math.ceil(ranks / gpu.gpusPerNode);
  const inter = nodeNetworkGBps(gpu) * NETWORK_EFFICIENCY / (1 + 0.02 * Math.log2(nodes));
  return Math.min(intra, inter);
}

/** Seconds for an all-reduce of `bytes` over `ranks` GPUs (ring: 2(n−1)/n of the data). */
export function allReduceSeconds(gpu: GpuSpec, ranks: number, bytes: number): number {
  if (ranks <= 1) return 0;
  const busbw = allReduceBusBandwidth(gpu, ranks) * 1e9;
  const latency = 20e-6 * Math.log2(ranks);
  return (bytes * 2 * (ranks - 1)) / ranks / busbw + latency;
}

/** Host name of node `i` (zero-padded to the width the node count needs, at least 3). */
export function hostName(prefix: string, node: number, nodes: number): string {
  const width = Math.max(3, String(nodes - 1).length);
  return prefix + String(node).padStart(width, "0");
}

/** Aggregate checkpoint write bandwidth (GB/s): ~2 GB/s a node, capped by the filesystem. */
export function storageWriteGBps(nodes: number): number {
  return Math.min(2 * nodes, 400);
}

/** Aggregate read bandwidth for loading weights (GB/s): reads run a little faster. */
export function storageReadGBps(nodes: number): number {
  return Math.min(3 * nodes, 600);
}
