/**
 * NCCL's start-up as rank 0 prints it with NCCL_DEBUG=INFO (REALISM 1.8), parsed back: one ring
 * line per channel (at most 28 ranks, as NCCL's 128-byte line buffer holds), the trees, and the
 * connections rank 0 makes to its ring and tree neighbours, NVLink inside a node, the network
 * across nodes.
 */
import assert from "node:assert/strict";
import { MegatronDialect } from "../../lib/dialects/megatron.ts";
import { TorchtitanDialect } from "../../lib/dialects/torchtitan.ts";
import type { Dialect } from "../../lib/dialects/dialect.ts";
import type { ScenarioRequest } from "../../lib/engine/scenario.ts";
import { play } from "./_harness.ts";

const RING = /^Channel (\d\d)\/(\d\d) :((?: {1,3}\d+)+)$/;
const TREE = / \[(\d+)\] (-?\d+)\/(-?\d+)\/(-?\d+)->0->(-?\d+)/g;
const CONNECT =
  /^Channel (\d\d)\/0 : (\d+)\[(\d+)\] -> (\d+)\[(\d+)\] (?:via (P2P\/CUMEM\/read|P2P\/IPC\/read|SHM\/direct\/direct)|\[(send|receive)\] via (NET\/IB\/\d\/GDRDMA|NET\/Socket\/\d))$/;

async function ncclOf(make: () => Dialect, request: Omit<ScenarioRequest, "seed">, seed: number) {
  const p = await play(make, request, seed, { wrap: false });
  const first = p.text.indexOf("NCCL INFO ncclCommInitRank");
  const last = p.text.indexOf("Init COMPLETE", first);
  const block = p.text.slice(first, last).split("\n");
  const msgs = block.map((l) => /NCCL INFO (.*)$/.exec(l)?.[1] ?? "").filter((m) => m);
  return { cfg: p.cfg, msgs };
}

for (
  const [nodes, make, request, seed] of [
    [1, () => new MegatronDialect(), { framework: "megatron" }, 1],
    [2, () => new TorchtitanDialect(), { framework: "torchtitan" }, 24],
    [128, () => new MegatronDialect(), { framework: "megatron" }, 8],
  ] as const
) {
  Deno.test(`NCCL init on ${nodes} node(s): a ring per channel, the trees, rank 0's connections`, async () => {
    const { cfg, msgs } = await ncclOf(make, request, seed);
    assert.equal(cfg.nodes, nodes);
    const perNode = cfg.gpusPerNode;
    const counts = /^(\d+) coll channels, /.exec(msgs.find((m) => / coll channels, /.test(m))!)!;
    const n = Number(counts[1]);
    const rings = msgs.map((m) => RING.exec(m)).filter((m) => m !== null);
    assert.equal(rings.length, n, "one ring line per channel");
    const order = rings.map((r) => r[3]!.trim().split(/ +/).map(Number));
    rings.forEach((r, k) => {
      assert.equal(Number(r[1]), k);
      assert.equal(Number(r[2]), n);
      assert.ok(r[0].length <= 127, "NCCL's line buffer");
      const ranks = order[k]!;
      assert.equal(ranks.length, Math.min(cfg.gpus, 28));
      assert.equal(ranks[0], 0, "rank 0's view starts at itself");
      assert.equal(new Set(ranks).size, ranks.length, "no rank twice");
      assert.ok(ranks.every((x) => x < cfg.gpus));
      // a ring walks a node's GPUs before it leaves the node
      for (let i = 0; i < Math.min(perNode, ranks.length); i++) {
        assert.ok(ranks[i]! < perNode, `channel ${k}: rank ${ranks[i]} inside node 0`);
      }
    });
    const trees = [...msgs.find((m) => m.startsWith("Trees "))!.matchAll(TREE)];
    assert.equal(trees.length, n, "a tree per channel");
    const conns = msgs.map((m) => CONNECT.exec(m)).filter((m) => m !== null);
    for (let k = 0; k < n; k++) {
      const mine = conns.filter((c) => Number(c[1]) === k);
      const next = order[k]![1]!;
      // rank 0 sends to its ring successor: NVLink (or PCIe) inside the node
      assert.ok(
        mine.some((c) => c[2] === "0" && Number(c[4]) === next && c[6] !== undefined),
        `channel ${k}: 0 -> ${next}`,
      );
      const [, , d0, d1, , up] = trees[k]!.map(Number);
      for (const peer of [d0!, d1!, up!].filter((x) => x >= 0)) {
        const remote = Math.floor(peer / perNode) !== 0;
        const withPeer = mine.filter((c) => c[2] === String(peer) || c[4] === String(peer));
        assert.ok(withPeer.length > 0, `channel ${k}: tree link to ${peer}`);
        if (remote) {
          assert.ok(
            withPeer.some((c) => c[7] === "send") && withPeer.some((c) => c[7] === "receive"),
          );
        }
      }
      for (const c of mine) {
        // GPU index in brackets is the local rank; the network only between nodes
        assert.equal(Number(c[3]), Number(c[2]) % perNode);
        assert.equal(Number(c[5]), Number(c[4]) % perNode);
        const cross = Math.floor(Number(c[2]) / perNode) !== Math.floor(Number(c[4]) / perNode);
        assert.equal(cross, c[7] !== undefined, c[0]);
      }
    }
    // the order NCCL prints them in
    const at = (re: RegExp) => msgs.findIndex((m) => re.test(m));
    const seq = [
      /^Channel 00\/\d\d :/,
      /^Trees /,
      /^P2P Chunksize/,
      /^Channel 00\/0 :/,
      /^Connected all rings/,
      /^Connected all trees/,
      /^threadThresholds /,
      / coll channels, /,
    ];
    for (let i = 1; i < seq.length; i++) assert.ok(at(seq[i]!) > at(seq[i - 1]!), String(seq[i]));
    if (cfg.nodes === 1) {
      assert.ok(conns.every((c) => c[7] === undefined), "no network inside a node");
    }
  });
}
