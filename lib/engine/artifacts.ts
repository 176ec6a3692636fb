/**
 * Files a run writes, with sizes that follow from the tensors (REALISM 1.10, 2.5): safetensors
 * shards split greedily in state-dict order at 5 GB, their index, companion files, and the
 * training checkpoint (16-bit weights + fp32 master weights + Adam moments = 14 B/param).
 */
import type { Architecture, ModelPreset, TokenizerSpec } from "../data.ts";
import { type Tensor, tensors } from "./arch.ts";

export const MAX_SHARD_BYTES = 5e9;
/** transformers version the exported files claim. */
export const TRANSFORMERS_VERSION = "4.46.3";

export interface FileSize {
  name: string;
  bytes: number;
}

export interface ShardPlan {
  /** Model weight files; one `model.safetensors` when everything fits in one shard. */
  shards: (FileSize & { tensors: Tensor[] })[];
  /** Sum of tensor bytes (the index's metadata.total_size). */
  totalSize: number;
  index: FileSize | null;
}

function dtypeName(bytes: number): string {
  return bytes === 4 ? "F32" : bytes === 1 ? "F8_E4M3" : "BF16";
}

/** Bytes of a safetensors file: 8-byte header length, JSON header padded to 8, then data. */
function safetensorsBytes(list: readonly Tensor[], dtypeBytes: number): number {
  let header = `{"__metadata__":{"format":"pt"}`;
  let offset = 0;
  const dtype = dtypeName(dtypeBytes);
  for (const x of list) {
    const end = offset + x.numel * dtypeBytes;
    header += `,"${x.name}":{"dtype":"${dtype}","shape":[${
      x.shape.join(",")
    }],"data_offsets":[${offset},${end}]}`;
    offset = end;
  }
  header += "}";
  const padded = Math.ceil(header.length / 8) * 8;
  return 8 + padded + offset;
}

function shardName(i: number, n: number): string {
  return `model-${String(i + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`;
}

/** Index JSON as transformers writes it: indent 2, sorted keys, trailing newline. */
export function indexJson(plan: ShardPlan): string {
  const map: Record<string, string> = {};
  for (const s of plan.shards) for (const x of s.tensors) map[x.name] = s.name;
  const sorted = Object.fromEntries(Object.keys(map).sort().map((k) => [k, map[k]]));
  return JSON.stringify({ metadata: { total_size: plan.totalSize }, weight_map: sorted }, null, 2) +
    "\n";
}

const planCache = new WeakMap<Architecture, Map<string, ShardPlan>>();

/** Greedy split in state-dict order: a tensor that would overflow the shard opens a new one. */
export function shardPlan(a: Architecture, dtypeBytes = 2, maxShard = MAX_SHARD_BYTES): ShardPlan {
  const key = `${dtypeBytes}/${maxShard}`;
  let plans = planCache.get(a);
  const cached = plans?.get(key);
  if (cached) return cached;
  const plan = buildShardPlan(a, dtypeBytes, maxShard);
  if (!plans) planCache.set(a, plans = new Map());
  plans.set(key, plan);
  return plan;
}

function buildShardPlan(a: Architecture, dtypeBytes: number, maxShard: number): ShardPlan {
  const groups: Tensor[][] = [[]];
  let size = 0;
  let total = 0;
  for (const x of tensors(a)) {
    const b = x.numel * dtypeBytes;
    total += b;
    const current = groups[groups.length - 1] as Tensor[];
    if (current.length > 0 && size + b > maxShard) {
      groups.push([x]);
      size = b;
    } else {
      current.push(x);
      size += b;
    }
  }
  const n = groups.length;
  const shards = groups.map((g, i) => ({
    name: n === 1 ? "model.safetensors" : shardName(i, n),
    bytes: safetensorsBytes(g, dtypeBytes),
    tensors: g,
  }));
  const plan: ShardPlan = { shards, totalSize: total, index: null };
  if (n > 1) {
    plan.index = { name: "model.safetensors.index.json", bytes: indexJson(plan).length };
  }
  return plan;
}

/** config.json content for the exported model (HF keys, sorted as transformers writes them). */
export function configJson(model: ModelPreset, dtype: string): string {
  const a = model.arch;
  const cfg: Record<string, unknown> = a.style === "gpt2"
    ? {
      activation_function: "gelu_new",
      architectures: [model.hfClass],
      bos_token_id: 50256,
      eos_token_id: 50256,
      initializer_range: 0.02,
      layer_norm_epsilon: 1e-5,
      model_type: model.modelType,
      n_ctx: a.context,
      n_embd: a.hidden,
      n_head: a.heads,
      n_inner: null,
      n_layer: a.layers,
      n_positions: a.context,
      torch_dtype: dtype,
      transformers_version: TRANSFORMERS_VERSION,
      use_cache: true,
      vocab_size: a.vocab,
    }
    : {
      architectures: [model.hfClass],
      attention_bias: a.qkvBias,
      attention_dropout: 0.0,
      head_dim: a.headDim,
      hidden_act: a.mlp === "gelu" ? "gelu" : a.mlp === "geglu" ? "gelu_pytorch_tanh" : "silu",
      hidden_size: a.hidden,
      initializer_range: 0.02,
      intermediate_size: a.ffn,
      max_position_embeddings: a.context,
      model_type: model.modelType,
      num_attention_heads: a.heads,
      num_hidden_layers: a.layers,
      num_key_value_heads: a.kvHeads,
      rms_norm_eps: a.normEps ?? 1e-5,
      rope_theta: a.ropeTheta ?? 10000.0,
      tie_word_embeddings: a.tiedEmbeddings,
      torch_dtype: dtype,
      transformers_version: TRANSFORMERS_VERSION,
      use_cache: true,
      vocab_size: a.vocab,
      ...(a.moe
        ? {
          num_experts_per_tok: a.moe.topK,
          [a.style === "mixtral" ? "num_local_experts" : "n_routed_experts"]: a.moe.experts,
        }
        : {}),
      ...(a.slidingWindow ? { sliding_window: a.slidingWindow } : {}),
    };
  const sorted = Object.fromEntries(Object.keys(cfg).sort().map((k) => [k, cfg[k]]));
  return JSON.stringify(sorted, null, 2) + "\n";
}

/** Companion files of an HF export folder. */
export function companionFiles(model: ModelPreset, tok: TokenizerSpec, dtype: string): FileSize[] {
  const generation = JSON.stringify(
    {
      _from_model_config: true,
      bos_token_id: 1,
      eos_token_id: 2,
      transformers_version: TRANSFORMERS_VERSION,
    },
    null,
    2,
  ) + "\n";
  return [
    { name: "config.json", bytes: configJson(model, dtype).length },
    { name: "generation_config.json", bytes: generation.length },
    ...tok.files,
  ];
}

export interface CheckpointSize {
  /** 16-bit (or fp32) model weights. */
  modelBytes: number;
  /** fp32 master weights + Adam m and v. */
  optimizerBytes: number;
  /** Scheduler, RNG states, trainer state: a few kB per rank. */
  extraBytes: number;
  total: number;
}

/** Full training checkpoint: weights + optimizer (REALISM 2.5: ≈14 B/param for bf16 AdamW). */
export function checkpointSize(totalParams: number, weightBytes: number, ranks: number) {
  const modelBytes = totalParams * weightBytes;
  const optimizerBytes = totalParams * (weightBytes === 4 ? 8 : 12);
  const extraBytes = 14_583 * ranks + 1_465;
  return {
    modelBytes,
    optimizerBytes,
    extraBytes,
    total: modelBytes + optimizerBytes + extraBytes,
  };
}
