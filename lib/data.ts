/**
 * Every static import of `data/` lives here, so the program needs no file access to run its
 * show and `deno compile` / `deno bundle` embed the catalogs.
 */
import gpusJson from "../data/gpus.json" with { type: "json" };
import cpusJson from "../data/cpus.json" with { type: "json" };
import modelsJson from "../data/models.json" with { type: "json" };
import datasetsJson from "../data/datasets.json" with { type: "json" };
import tokenizersJson from "../data/tokenizers.json" with { type: "json" };
import warningsJson from "../data/warnings.json" with { type: "json" };
import namesJson from "../data/names.json" with { type: "json" };

/** Peak dense tensor throughput in TFLOP/s; null where the precision is not supported. */
export interface PeakTflops {
  fp32: number;
  tf32: number;
  bf16: number | null;
  fp16: number;
  fp8: number | null;
}

export interface GpuSpec {
  /** Canonical id used by `--gpu`. */
  id: string;
  /** Short display name, e.g. "H100 SXM". */
  name: string;
  aliases: string[];
  /** "cpu" for the host processor `llm-sim train --device cpu` trains on (data/cpus.json). */
  vendor: "nvidia" | "cpu";
  /** Product name as nvidia-smi and torch.cuda.get_device_name() print it. */
  smiName: string;
  arch: string;
  computeCapability: string;
  /** Marketing memory size in GB. */
  memoryGB: number;
  /** Total memory nvidia-smi shows, MiB. */
  smiMiB: number;
  /** torch.cuda total memory, GiB (torchtitan's "CUDA capacity"). */
  capacityGiB: number;
  /** HBM/GDDR bandwidth, GB/s. */
  memBandwidthGBps: number;
  peakTflops: PeakTflops;
  tdpW: number;
  idleW: number;
  /**
   * Fraction of the dense peak a power-capped part sustains (clocks drop under the cap);
   * absent for parts at their rated power.
   */
  sustainedFraction?: number;
  /** NVLink bandwidth per GPU, GB/s bidirectional; 0 where GPUs talk over PCIe only. */
  nvlinkGBps: number;
  /** Typical scale-out network of a node built around this GPU. */
  nic: { kind: "IB" | "RoCE" | "Ethernet"; gbps: number; perNode: number; device: string };
  gpusPerNode: number;
  /** Typical software stack shipped with such nodes. */
  driver: string;
  cuda: string;
  thermal: { slowdownC: number; shutdownC: number; maxOperatingC: number };
  /** PCI bus numbers of the GPUs on one baseboard, as nvidia-smi shows them (two hex digits). */
  busIds: string[];
  sources: string;
}

export interface MoeSpec {
  /** Routed experts per MoE layer. */
  experts: number;
  topK: number;
  /** FFN width of one routed expert. */
  expertFfn: number;
  /** Always-on shared experts (DeepSeek), each of width expertFfn. */
  shared: number;
  /** Leading layers that stay dense (use `ffn`). */
  denseLayers: number;
  /** Router has a per-expert bias vector (DeepSeek-V3 e_score_correction_bias). */
  routerBias: boolean;
}

/** DeepSeek multi-head latent attention projection sizes. */
export interface MlaSpec {
  qLoraRank: number;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
}

export interface Architecture {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  /** Embedding rows as in config.json (may be padded, e.g. Qwen 152064). */
  vocab: number;
  context: number;
  mlp: "swiglu" | "geglu" | "gelu";
  norm: "rmsnorm" | "layernorm";
  positional: "rope" | "learned" | "alibi";
  tiedEmbeddings: boolean;
  /** Bias on q, k, v projections (Qwen2, GPT-2). */
  qkvBias: boolean;
  /** Bias on attention output and MLP projections (GPT-2 style). */
  linearBias: boolean;
  /**
   * Module layout of the HF implementation, which decides tensor names and which norms exist:
   * llama (also Mistral, Qwen2, DeepSeek dense), gemma2 (four norms a layer), olmo
   * (non-parametric LayerNorm), olmo2 (post-norm + q/k norm), mixtral, deepseek_v3 (MLA + MoE),
   * gpt2 (fused c_attn, learned positions), falcon (parallel block, one norm) and falcon_new
   * (parallel block, ln_attn + ln_mlp).
   */
  style:
    | "llama"
    | "gemma2"
    | "olmo"
    | "olmo2"
    | "mixtral"
    | "deepseek_v3"
    | "gpt2"
    | "falcon"
    | "falcon_new";
  moe?: MoeSpec;
  mla?: MlaSpec;
  ropeTheta?: number;
  normEps?: number;
  slidingWindow?: number;
}

export interface ModelPreset {
  /** Canonical id used by `--model`. */
  id: string;
  /** Display name, e.g. "Llama-3.1-8B". */
  name: string;
  aliases: string[];
  family: string;
  org: string;
  /** HF `architectures[0]` and `model_type`. */
  hfClass: string;
  modelType: string;
  arch: Architecture;
  /** Key into tokenizers.json. */
  tokenizer: string;
  /** Published exact total parameter count; the engine must compute the same number. */
  params: number;
  paramsSource: string;
}

export interface FunModel {
  /** Humorous display name. */
  name: string;
  /** Id of the real preset whose architecture it uses. */
  base: string;
}

export interface DatasetSpec {
  id: string;
  /** As a user would type it (HF hub id or corpus name). */
  name: string;
  kind: "pretrain" | "finetune";
  /** Total tokens (Llama-style tokenizer). */
  tokens: number;
  /** Number of documents / examples where known. */
  examples?: number;
  fun?: boolean;
  /**
   * A small corpus a hobbyist trains on locally (`llm-sim train`): `tokens` counts its train
   * split with the GPT-2 BPE. The show's scenarios leave these out.
   */
  local?: boolean;
  source: string;
}

export interface TokenizerSpec {
  id: string;
  /** Human description, e.g. "tiktoken-based BPE". */
  name: string;
  kind: "BPE" | "SentencePiece BPE" | "SentencePiece Unigram" | "WordPiece";
  /** Base vocabulary size the tokenizer produces (before any padding). */
  vocab: number;
  bos: string | null;
  eos: string;
  pad: string | null;
  /** Files a saved tokenizer writes, with typical sizes in bytes. */
  files: { name: string; bytes: number }[];
  source: string;
}

export interface WarningSpec {
  id: string;
  /**
   * When it shows: once at launch, once per start-up, at a given phase, or randomly during
   * training at `perHour` (mean occurrences per hour of simulated time).
   */
  when: "launch" | "startup" | "dataloader" | "training" | "checkpoint" | "end";
  perHour?: number;
  /**
   * Lines, with placeholders: {rank} {local_rank} {mmdd} {hms_us} {pid} {tid} {host} {step}
   * {python} {site} (site-packages path) {torch_line}.
   */
  lines: string[];
  /** Only where this holds: "multinode", "fp16", "compile", "hf", "tokenizer-fork" ... */
  requires?: string[];
  source: string;
}

export interface NameLists {
  /** Node host-name prefixes: "any" GPU, or keyed by GPU id. */
  hostPrefixes: Record<string, string[]>;
  clusters: string[];
  projects: { pretrain: string[]; finetune: string[] };
  users: string[];
  checkpointRoots: string[];
}

export const GPUS: readonly GpuSpec[] = gpusJson.gpus as GpuSpec[];
/** Host processors, in GpuSpec's shape so the engine prices them the same way. */
export const CPUS: readonly GpuSpec[] = cpusJson.cpus as GpuSpec[];
export const MODELS: readonly ModelPreset[] = modelsJson.models as ModelPreset[];
export const FUN_MODELS: readonly FunModel[] = modelsJson.fun as FunModel[];
export const DATASETS: readonly DatasetSpec[] = datasetsJson.datasets as DatasetSpec[];
export const TOKENIZERS: readonly TokenizerSpec[] = tokenizersJson.tokenizers as TokenizerSpec[];
export const WARNINGS: readonly WarningSpec[] = warningsJson.warnings as WarningSpec[];
export const NAMES: NameLists = namesJson as NameLists;
