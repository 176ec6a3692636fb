/**
 * Architecture → tensors. The tensor list (HF names, state-dict order) is the single source of
 * the parameter count, the FLOPs per token and the export shard plan.
 */
import type { Architecture } from "../data.ts";

export type TensorKind = "embed" | "pos" | "attn" | "mlp" | "expert" | "router" | "norm" | "head";

export interface Tensor {
  name: string;
  shape: readonly number[];
  numel: number;
  kind: TensorKind;
  /** Decoder layer index, or -1 outside the layer stack. */
  layer: number;
}

export interface ParamCount {
  total: number;
  /** Token-embedding lookup table (counted as a matmul only when tied to the LM head). */
  embedding: number;
  /** Learned position embeddings (never a matmul). */
  positional: number;
  /** LM head (0 when tied). */
  head: number;
  /** All routed-expert weights (MoE only). */
  experts: number;
  /** Parameters touched per token: total minus the routed experts a token does not visit. */
  active: number;
  /** Active parameters that take part in matmuls: what the 6N rule counts. */
  matmulActive: number;
}

const tensorCache = new WeakMap<Architecture, Tensor[]>();
const countCache = new WeakMap<Architecture, ParamCount>();

function t(list: Tensor[], name: string, shape: number[], kind: TensorKind, layer = -1): void {
  let numel = 1;
  for (const d of shape) numel *= d;
  list.push({ name, shape, numel, kind, layer });
}

function attentionDims(a: Architecture): { q: number; kv: number } {
  return { q: a.heads * a.headDim, kv: a.kvHeads * a.headDim };
}

function llamaLayer(list: Tensor[], a: Architecture, i: number): void {
  const p = `model.layers.${i}`;
  const { q, kv } = attentionDims(a);
  const h = a.hidden;
  if (a.mla) {
    const m = a.mla;
    t(list, `${p}.self_attn.q_a_proj.weight`, [m.qLoraRank, h], "attn", i);
    t(list, `${p}.self_attn.q_a_layernorm.weight`, [m.qLoraRank], "norm", i);
    t(
      list,
      `${p}.self_attn.q_b_proj.weight`,
      [a.heads * (m.qkNopeHeadDim + m.qkRopeHeadDim), m.qLoraRank],
      "attn",
      i,
    );
    t(
      list,
      `${p}.self_attn.kv_a_proj_with_mqa.weight`,
      [m.kvLoraRank + m.qkRopeHeadDim, h],
      "attn",
      i,
    );
    t(list, `${p}.self_attn.kv_a_layernorm.weight`, [m.kvLoraRank], "norm", i);
    t(
      list,
      `${p}.self_attn.kv_b_proj.weight`,
      [a.heads * (m.qkNopeHeadDim + m.vHeadDim), m.kvLoraRank],
      "attn",
      i,
    );
    t(list, `${p}.self_attn.o_proj.weight`, [h, a.heads * m.vHeadDim], "attn", i);
  } else {
    t(list, `${p}.self_attn.q_proj.weight`, [q, h], "attn", i);
    if (a.qkvBias) t(list, `${p}.self_attn.q_proj.bias`, [q], "attn", i);
    t(list, `${p}.self_attn.k_proj.weight`, [kv, h], "attn", i);
    if (a.qkvBias) t(list, `${p}.self_attn.k_proj.bias`, [kv], "attn", i);
    t(list, `${p}.self_attn.v_proj.weight`, [kv, h], "attn", i);
    if (a.qkvBias) t(list, `${p}.self_attn.v_proj.bias`, [kv], "attn", i);
    t(list, `${p}.self_attn.o_proj.weight`, [h, q], "attn", i);
    if (a.style === "olmo2") {
      t(list, `${p}.self_attn.q_norm.weight`, [q], "norm", i);
      t(list, `${p}.self_attn.k_norm.weight`, [kv], "norm", i);
    }
  }
  const moe = a.moe;
  if (a.style === "mixtral" && moe) {
    t(list, `${p}.block_sparse_moe.gate.weight`, [moe.experts, h], "router", i);
    for (let e = 0; e < moe.experts; e++) {
      const x = `${p}.block_sparse_moe.experts.${e}`;
      t(list, `${x}.w1.weight`, [moe.expertFfn, h], "expert", i);
      t(list, `${x}.w2.weight`, [h, moe.expertFfn], "expert", i);
      t(list, `${x}.w3.weight`, [moe.expertFfn, h], "expert", i);
    }
  } else if (moe && i >= moe.denseLayers) {
    for (let e = 0; e < moe.experts; e++) {
      const x = `${p}.mlp.experts.${e}`;
      t(list, `${x}.gate_proj.weight`, [moe.expertFfn, h], "expert", i);
      t(list, `${x}.up_proj.weight`, [moe.expertFfn, h], "expert", i);
      t(list, `${x}.down_proj.weight`, [h, moe.expertFfn], "expert", i);
    }
    t(list, `${p}.mlp.gate.weight`, [moe.experts, h], "router", i);
    if (moe.routerBias) {
      t(list, `${p}.mlp.gate.e_score_correction_bias`, [moe.experts], "router", i);
    }
    if (moe.shared > 0) {
      const f = moe.expertFfn * moe.shared;
      t(list, `${p}.mlp.shared_experts.gate_proj.weight`, [f, h], "mlp", i);
      t(list, `${p}.mlp.shared_experts.up_proj.weight`, [f, h], "mlp", i);
      t(list, `${p}.mlp.shared_experts.down_proj.weight`, [h, f], "mlp", i);
    }
  } else {
    t(list, `${p}.mlp.gate_proj.weight`, [a.ffn, h], "mlp", i);
    t(list, `${p}.mlp.up_proj.weight`, [a.ffn, h], "mlp", i);
    t(list, `${p}.mlp.down_proj.weight`, [h, a.ffn], "mlp", i);
  }
  switch (a.style) {
    case "olmo":
      break; // non-parametric LayerNorm: nothing to save
    case "olmo2":
      t(list, `${p}.post_attention_layernorm.weight`, [h], "norm", i);
      t(list, `${p}.post_feedforward_layernorm.weight`, [h], "norm", i);
      break;
    case "gemma2":
      t(list, `${p}.input_layernorm.weight`, [h], "norm", i);
      t(list, `${p}.post_attention_layernorm.weight`, [h], "norm", i);
      t(list, `${p}.pre_feedforward_layernorm.weight`, [h], "norm", i);
      t(list, `${p}.post_feedforward_layernorm.weight`, [h], "norm", i);
      break;
    default:
      t(list, `${p}.input_layernorm.weight`, [h], "norm", i);
      t(list, `${p}.post_attention_layernorm.weight`, [h], "norm", i);
  }
}

function gpt2Tensors(list: Tensor[], a: Architecture): void {
  const h = a.hidden;
  t(list, "transformer.wte.weight", [a.vocab, h], "embed");
  t(list, "transformer.wpe.weight", [a.context, h], "pos");
  for (let i = 0; i < a.layers; i++) {
    const p = `transformer.h.${i}`;
    t(list, `${p}.ln_1.weight`, [h], "norm", i);
    t(list, `${p}.ln_1.bias`, [h], "norm", i);
    t(list, `${p}.attn.c_attn.weight`, [h, 3 * h], "attn", i);
    t(list, `${p}.attn.c_attn.bias`, [3 * h], "attn", i);
    t(list, `${p}.attn.c_proj.weight`, [h, h], "attn", i);
    t(list, `${p}.attn.c_proj.bias`, [h], "attn", i);
    t(list, `${p}.ln_2.weight`, [h], "norm", i);
    t(list, `${p}.ln_2.bias`, [h], "norm", i);
    t(list, `${p}.mlp.c_fc.weight`, [h, a.ffn], "mlp", i);
    t(list, `${p}.mlp.c_fc.bias`, [a.ffn], "mlp", i);
    t(list, `${p}.mlp.c_proj.weight`, [a.ffn, h], "mlp", i);
    t(list, `${p}.mlp.c_proj.bias`, [h], "mlp", i);
  }
  t(list, "transformer.ln_f.weight", [h], "norm");
  t(list, "transformer.ln_f.bias", [h], "norm");
  if (!a.tiedEmbeddings) t(list, "lm_head.weight", [a.vocab, h], "head");
}

function falconTensors(list: Tensor[], a: Architecture): void {
  const h = a.hidden;
  const { q, kv } = attentionDims(a);
  t(list, "transformer.word_embeddings.weight", [a.vocab, h], "embed");
  for (let i = 0; i < a.layers; i++) {
    const p = `transformer.h.${i}`;
    t(list, `${p}.self_attention.query_key_value.weight`, [q + 2 * kv, h], "attn", i);
    t(list, `${p}.self_attention.dense.weight`, [h, q], "attn", i);
    t(list, `${p}.mlp.dense_h_to_4h.weight`, [a.ffn, h], "mlp", i);
    t(list, `${p}.mlp.dense_4h_to_h.weight`, [h, a.ffn], "mlp", i);
    const norms = a.style === "falcon_new" ? ["ln_attn", "ln_mlp"] : ["input_layernorm"];
    for (const n of norms) {
      t(list, `${p}.${n}.weight`, [h], "norm", i);
      t(list, `${p}.${n}.bias`, [h], "norm", i);
    }
  }
  t(list, "transformer.ln_f.weight", [h], "norm");
  t(list, "transformer.ln_f.bias", [h], "norm");
  if (!a.tiedEmbeddings) t(list, "lm_head.weight", [a.vocab, h], "head");
}

/** Every tensor of the model in state-dict order, with HF names. */
export function tensors(a: Architecture): readonly Tensor[] {
  const cached = tensorCache.get(a);
  if (cached) return cached;
  const list: Tensor[] = [];
  if (a.style === "gpt2") gpt2Tensors(list, a);
  else if (a.style === "falcon" || a.style === "falcon_new") falconTensors(list, a);
  else {
    t(list, "model.embed_tokens.weight", [a.vocab, a.hidden], "embed");
    for (let i = 0; i < a.layers; i++) llamaLayer(list, a, i);
    if (a.style !== "olmo") t(list, "model.norm.weight", [a.hidden], "norm");
    if (!a.tiedEmbeddings) t(list, "lm_head.weight", [a.vocab, a.hidden], "head");
  }
  tensorCache.set(a, list);
  return list;
}

/** Parameter count broken down the way FLOP and memory formulas need it. */
export function paramCount(a: Architecture): ParamCount {
  const cached = countCache.get(a);
  if (cached) return cached;
  let total = 0, embedding = 0, positional = 0, head = 0, experts = 0;
  for (const x of tensors(a)) {
    total += x.numel;
    if (x.kind === "embed") embedding += x.numel;
    else if (x.kind === "pos") positional += x.numel;
    else if (x.kind === "head") head += x.numel;
    else if (x.kind === "expert") experts += x.numel;
  }
  const moe = a.moe;
  const visited = moe ? experts * (moe.topK / moe.experts) : experts;
  const active = total - experts + visited;
  // A tied table is the LM head's matmul weight; an untied lookup table does no FLOPs.
  const matmulActive = active - positional - (a.tiedEmbeddings ? 0 : embedding);
  const count = { total, embedding, positional, head, experts, active, matmulActive };
  countCache.set(a, count);
  return count;
}

/** Width of the attention score (q·k) and value contraction per head. */
function attentionHeadDims(a: Architecture): number {
  if (a.mla) return a.mla.qkNopeHeadDim + a.mla.qkRopeHeadDim + a.mla.vHeadDim;
  return 2 * a.headDim;
}

/**
 * Model training FLOPs per token (forward + backward, no recompute): 6·N plus the attention
 * term 6·L·H·(d_qk + d_v)·T (PaLM appendix B; nanoGPT and torchtitan use the same formula).
 */
export function trainingFlopsPerToken(a: Architecture, seqLen: number): number {
  const n = paramCount(a).matmulActive;
  return 6 * n + 6 * a.layers * a.heads * attentionHeadDims(a) * seqLen;
}

/** Forward-only FLOPs per token (evaluation, generation prefill). */
export function forwardFlopsPerToken(a: Architecture, seqLen: number): number {
  return trainingFlopsPerToken(a, seqLen) / 3;
}

/** Largest single decoder layer in parameters (ZeRO-3 gathers one at a time). */
export function largestLayerParams(a: Architecture): number {
  let max = 0;
  for (const v of layerParams(a)) max = Math.max(max, v);
  return max;
}

interface LayerSums {
  all: number[];
  experts: number[];
}

const layerCache = new WeakMap<Architecture, LayerSums>();

function layerSums(a: Architecture): LayerSums {
  let sums = layerCache.get(a);
  if (!sums) {
    sums = {
      all: new Array<number>(a.layers).fill(0),
      experts: new Array<number>(a.layers).fill(0),
    };
    for (const x of tensors(a)) {
      if (x.layer < 0) continue;
      sums.all[x.layer] = (sums.all[x.layer] ?? 0) + x.numel;
      if (x.kind === "expert") sums.experts[x.layer] = (sums.experts[x.layer] ?? 0) + x.numel;
    }
    layerCache.set(a, sums);
  }
  return sums;
}

/** Parameters of each decoder layer, in layer order. */
export function layerParams(a: Architecture): readonly number[] {
  return layerSums(a).all;
}

/** Routed-expert parameters of each layer (0 for dense layers). */
export function layerExpertParams(a: Architecture): readonly number[] {
  return layerSums(a).experts;
}

const outerNormCache = new WeakMap<Architecture, number>();

/** Parameters of the norms outside the layer stack (the final norm). */
export function outerNormParams(a: Architecture): number {
  let n = outerNormCache.get(a);
  if (n === undefined) {
    n = 0;
    for (const x of tensors(a)) if (x.kind === "norm" && x.layer < 0) n += x.numel;
    outerNormCache.set(a, n);
  }
  return n;
}
