/** `llm-sim generate` flags: a pure parse to a typed request; bad values are one-line errors. */
import { MAX_NEW_TOKENS } from "../generate/session.ts";
import { UsageError } from "./errors.ts";
import { bool, type FlagSpec, intFlag, numFlag, parseFlags, str } from "./flags.ts";
import type { Pace } from "./trainer_args.ts";

export interface GenerateArgs {
  help: boolean;
  run: string | null;
  checkpoint: number | "latest";
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number | null;
  json: boolean;
  runsDir: string | null;
  pace: Pace;
}

/** `llm-sim generate`'s flags (shell completions are generated from these too). */
export const GENERATE_FLAGS: FlagSpec = {
  run: { type: "string" },
  checkpoint: { type: "string" },
  prompt: { type: "string" },
  "max-new-tokens": { type: "string" },
  temperature: { type: "string" },
  "top-k": { type: "string" },
  "top-p": { type: "string" },
  "repetition-penalty": { type: "string" },
  seed: { type: "string" },
  json: { type: "boolean" },
  "runs-dir": { type: "string" },
  speed: { type: "string" },
  instant: { type: "boolean" },
  width: { type: "string" },
  "no-color": { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

export function parseGenerateArgs(argv: string[]): GenerateArgs {
  const p = parseFlags(argv, GENERATE_FLAGS, "llm-sim generate");
  if (p.positionals.length > 0) {
    throw new UsageError(
      `generate takes flags only (the prompt goes in --prompt), got '${p.positionals[0]}'`,
    );
  }
  const ckpt = str(p, "checkpoint");
  let checkpoint: number | "latest" = "latest";
  if (ckpt !== undefined && ckpt !== "latest") {
    const m = /^(?:step-)?(\d+)$/.exec(ckpt.trim());
    if (!m) {
      throw new UsageError(`--checkpoint must be a step number, step-N or latest, not '${ckpt}'`);
    }
    checkpoint = Number(m[1]);
  }
  const topP = numFlag(p, "top-p", 0, 1) ?? 1;
  if (topP === 0) throw new UsageError("--top-p must be above 0 and at most 1, not '0'");
  return {
    help: bool(p, "help"),
    run: str(p, "run") ?? null,
    checkpoint,
    prompt: str(p, "prompt") ?? "",
    maxNewTokens: intFlag(p, "max-new-tokens", 1, MAX_NEW_TOKENS) ?? 128,
    temperature: numFlag(p, "temperature", 0, 100) ?? 1,
    topK: intFlag(p, "top-k", 0, 1_000_000) ?? 0,
    topP,
    repetitionPenalty: numFlag(p, "repetition-penalty", 1e-3, 100) ?? 1,
    seed: intFlag(p, "seed", 0, 4294967295) ?? null,
    json: bool(p, "json"),
    runsDir: str(p, "runs-dir") ?? null,
    pace: {
      speed: numFlag(p, "speed", 0.01, 1e6) ?? 1,
      instant: bool(p, "instant"),
      width: intFlag(p, "width", 20, 1000) ?? null,
      noColor: bool(p, "no-color"),
    },
  };
}

export const GENERATE_HELP = `llm-sim generate: sample text from a run's checkpoint.

Usage:
  llm-sim generate [--run ID] [--checkpoint STEP|latest] [--prompt TEXT] [flags]

The sampler is real: a word-level 4-gram language model with interpolated absolute discounting,
built at start-up from Moby-Dick. How much of it a checkpoint may use follows the checkpoint's
validation loss: an early checkpoint samples near-unigram noise, a trained one uses long
contexts and samples cooler. Tokens arrive at the decode speed the engine predicts for the
model on the run's GPU (weights read once per token at the memory bandwidth).

  --run ID                   a run (default: the newest completed one)
  --checkpoint STEP          a saved step, step-N, or latest (default)
  --prompt TEXT              the start of the text (default: empty)
  --max-new-tokens N         tokens to generate, 1 to ${MAX_NEW_TOKENS} (default 128)
  --temperature T            0 = greedy; the checkpoint sets a floor above 0 (default 1)
  --top-k K                  keep the K most likely words, 0 = off (default 0)
  --top-p P                  keep the most likely words up to mass P, in (0, 1] (default 1)
  --repetition-penalty R     > 1 makes words already in the text less likely (default 1)
  --seed N                   the same seed gives the same text
  --json                     print text and statistics as one JSON object (no pauses)
  --runs-dir DIR             where runs live (default: $LLM_SIM_RUNS, else ./runs)
  --speed X, --instant       as for the show
`;
