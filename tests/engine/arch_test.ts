/**
 * Architecture → tensors → parameter counts, FLOPs per token and the safetensors export plan,
 * checked against published numbers (data/models.json `params`, REALISM 0.1, 1.10, 2.2, 5).
 */
import assert from "node:assert/strict";
import { type ModelPreset, MODELS } from "../../lib/data.ts";
import { paramCount, tensors, trainingFlopsPerToken } from "../../lib/engine/arch.ts";
import { indexJson, MAX_SHARD_BYTES, shardPlan } from "../../lib/engine/artifacts.ts";

function preset(id: string): ModelPreset {
  const m = MODELS.find((x) => x.id === id);
  assert.ok(m, `preset ${id} is in data/models.json`);
  return m;
}

function assertClose(actual: number, expected: number, rel: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(
    err <= rel,
    `${what}: ${actual} is not within ${rel * 100} % of ${expected} (off by ${
      (err * 100).toFixed(3)
    } %)`,
  );
}

Deno.test("paramCount() equals the published parameter count of every preset", () => {
  assert.ok(MODELS.length >= 30);
  for (const m of MODELS) {
    assert.equal(paramCount(m.arch).total, m.params, `${m.id} (${m.paramsSource})`);
  }
});

Deno.test("tensors() numel sums to paramCount().total for every preset", () => {
  for (const m of MODELS) {
    const list = tensors(m.arch);
    let sum = 0;
    for (const x of list) {
      assert.equal(x.numel, x.shape.reduce((a, b) => a * b, 1), `${m.id} ${x.name} numel`);
      sum += x.numel;
    }
    assert.equal(sum, paramCount(m.arch).total, m.id);
    assert.equal(new Set(list.map((x) => x.name)).size, list.length, `${m.id} names are unique`);
  }
});

Deno.test("paramCount() orders matmulActive ≤ active ≤ total for every preset", () => {
  for (const m of MODELS) {
    const c = paramCount(m.arch);
    assert.ok(c.matmulActive > 0, m.id);
    assert.ok(c.matmulActive <= c.active, `${m.id}: matmulActive ${c.matmulActive} > active`);
    assert.ok(c.active <= c.total, `${m.id}: active ${c.active} > total ${c.total}`);
    if (!m.arch.moe) assert.equal(c.active, c.total, `${m.id} is dense`);
    else assert.ok(c.active < c.total, `${m.id} is MoE: some experts are not visited`);
  }
});

Deno.test("paramCount() gives the published active counts of the MoE presets (REALISM 5)", () => {
  // Mixtral 8x7B: 46.7B total / 12.9B active; DeepSeek-V3: 671B total / 37B active.
  assertClose(paramCount(preset("mixtral-8x7b").arch).active, 12.9e9, 0.005, "Mixtral active");
  assertClose(paramCount(preset("deepseek-v3").arch).active, 37e9, 0.02, "DeepSeek-V3 active");
});

Deno.test("trainingFlopsPerToken() gives torchtitan's 5.79e10 for Llama-3.1-8B at 8192", () => {
  // REALISM 0.1: "flops/token 5.79e10 with torchtitan's formula".
  assertClose(trainingFlopsPerToken(preset("llama-3.1-8b").arch, 8192), 5.79e10, 0.005, "8B");
});

Deno.test("trainingFlopsPerToken() gives 2.63e12 for Llama-3.1-405B at 8192 (REALISM 2.2)", () => {
  // 6N = 2.43e12 plus attention 12·126·128·128·8192 = 2.03e11.
  const a = preset("llama-3.1-405b").arch;
  assertClose(trainingFlopsPerToken(a, 8192), 2.63e12, 0.01, "405B");
  const attention = 12 * 126 * 128 * 128 * 8192;
  assertClose(trainingFlopsPerToken(a, 8192) - trainingFlopsPerToken(a, 0), attention, 1e-12, "");
});

Deno.test("shardPlan() splits Llama-3.1-8B bf16 into the four published shards (REALISM 1.10)", () => {
  const plan = shardPlan(preset("llama-3.1-8b").arch);
  assert.equal(plan.totalSize, 16_060_522_496);
  const gb = plan.shards.map((s) => s.bytes / 1e9);
  const published = [4.98, 5.0, 4.92, 1.17];
  assert.equal(gb.length, published.length, `shards ${gb.join(", ")}`);
  published.forEach((p, i) => {
    assert.ok(Math.abs((gb[i] ?? 0) - p) <= 0.01, `shard ${i + 1}: ${gb[i]} GB vs ${p} GB`);
  });
  assert.deepEqual(plan.shards.map((s) => s.name), [
    "model-00001-of-00004.safetensors",
    "model-00002-of-00004.safetensors",
    "model-00003-of-00004.safetensors",
    "model-00004-of-00004.safetensors",
  ]);
  assert.equal(plan.index?.name, "model.safetensors.index.json");
});

Deno.test("shardPlan() splits Llama-3.2-3B bf16 into shards of 4.97 and 1.46 GB", () => {
  const plan = shardPlan(preset("llama-3.2-3b").arch);
  const gb = plan.shards.map((s) => s.bytes / 1e9);
  assert.equal(gb.length, 2, `shards ${gb.join(", ")}`);
  assert.ok(Math.abs((gb[0] ?? 0) - 4.97) <= 0.01, `shard 1: ${gb[0]} GB`);
  assert.ok(Math.abs((gb[1] ?? 0) - 1.46) <= 0.01, `shard 2: ${gb[1]} GB`);
});

Deno.test("shardPlan() keeps every shard within 5 GB of tensor data unless it holds one tensor", () => {
  for (const m of MODELS) {
    for (const dtypeBytes of [2, 4]) {
      const plan = shardPlan(m.arch, dtypeBytes);
      let total = 0;
      plan.shards.forEach((s, i) => {
        const data = s.tensors.reduce((sum, x) => sum + x.numel * dtypeBytes, 0);
        total += data;
        assert.ok(
          data <= MAX_SHARD_BYTES || s.tensors.length === 1,
          `${m.id} ×${dtypeBytes} ${s.name}: ${data} bytes in ${s.tensors.length} tensors`,
        );
        assert.ok(s.bytes > data, `${m.id} ${s.name}: file bytes include the header`);
        // greedy: the next shard's first tensor would not have fit in this one
        const next = plan.shards[i + 1]?.tensors[0];
        if (next) {
          assert.ok(data + next.numel * dtypeBytes > MAX_SHARD_BYTES, `${m.id} ${s.name}`);
        }
      });
      assert.equal(total, plan.totalSize, m.id);
      assert.equal(plan.totalSize, paramCount(m.arch).total * dtypeBytes, m.id);
      const order = plan.shards.flatMap((s) => s.tensors.map((x) => x.name));
      assert.deepEqual(order, tensors(m.arch).map((x) => x.name), `${m.id} state-dict order`);
      if (plan.shards.length === 1) {
        assert.equal(plan.shards[0]?.name, "model.safetensors", m.id);
        assert.equal(plan.index, null, m.id);
      }
    }
  }
});

Deno.test("indexJson() writes a sorted weight map covering every tensor", () => {
  for (const id of ["llama-3.1-8b", "llama-3.2-3b", "mixtral-8x7b", "gemma-2-9b"]) {
    const a = preset(id).arch;
    const plan = shardPlan(a);
    const text = indexJson(plan);
    assert.ok(text.endsWith("}\n"), `${id}: trailing newline`);
    assert.ok(text.startsWith('{\n  "metadata": {\n    "total_size": '), `${id}: indent 2`);
    assert.equal(plan.index?.bytes, new TextEncoder().encode(text).length, id);
    const parsed = JSON.parse(text) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    assert.equal(parsed.metadata.total_size, plan.totalSize, id);
    const keys = Object.keys(parsed.weight_map);
    assert.deepEqual(keys, [...keys].sort(), `${id}: weight_map keys sorted`);
    assert.equal(keys.length, tensors(a).length, id);
    for (const s of plan.shards) {
      for (const x of s.tensors) assert.equal(parsed.weight_map[x.name], s.name, `${id} ${x.name}`);
    }
  }
  const parsed = JSON.parse(indexJson(shardPlan(preset("llama-3.1-8b").arch)));
  assert.equal(parsed.metadata.total_size, 16_060_522_496);
  assert.equal(parsed.weight_map["lm_head.weight"], "model-00004-of-00004.safetensors");
  assert.equal(parsed.weight_map["model.embed_tokens.weight"], "model-00001-of-00004.safetensors");
});

Deno.test("tensors() has an lm_head exactly when embeddings are untied (GPT-2 has none)", () => {
  const gpt2 = tensors(preset("gpt2").arch).map((x) => x.name);
  assert.ok(!gpt2.some((n) => n.includes("lm_head")), "GPT-2 ties its LM head to wte");
  assert.ok(gpt2.includes("transformer.wte.weight"));
  assert.equal(paramCount(preset("gpt2").arch).head, 0);
  for (const m of MODELS) {
    const heads = tensors(m.arch).filter((x) => x.name === "lm_head.weight");
    assert.equal(heads.length, m.arch.tiedEmbeddings ? 0 : 1, m.id);
    assert.equal(paramCount(m.arch).head > 0, !m.arch.tiedEmbeddings, m.id);
  }
});
