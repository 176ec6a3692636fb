/**
 * One generation: the prompt conditions the context, each token is sampled for real from the
 * n-gram model (as much of it as the checkpoint's quality allows) and written when the engine
 * says the GPU would have produced it. Pure: clock and output come from the shell.
 */
import type { Clock } from "../core/clock.ts";
import { Rng } from "../core/rng.ts";
import { detokenize, type NgramModel, sample, type SamplingOptions, tokenize } from "./ngram.ts";
import type { Quality } from "./quality.ts";

/** Most tokens one generation may ask for (a long chapter; the model has no end token). */
export const MAX_NEW_TOKENS = 4096;

export interface GenerateRequest extends SamplingOptions {
  prompt: string;
  maxNewTokens: number;
  seed: number;
}

export interface GenerateResult {
  /** The continuation (without the prompt). */
  text: string;
  /** Word ids of prompt and continuation (tests measure perplexity on them). */
  ids: number[];
  promptTokens: number;
  tokens: number;
  /** The temperature sampling used: the request's, floored by the checkpoint's quality. */
  temperature: number;
  prefillSeconds: number;
  decodeSeconds: number;
  tokensPerSecond: number;
}

export async function generate(
  model: NgramModel,
  quality: Quality,
  req: GenerateRequest,
  timing: { prefillSeconds: number; decodeSeconds: number },
  io: { clock: Clock; write(text: string): void },
): Promise<GenerateResult> {
  const rng = new Rng(req.seed).fork("generate");
  const history = model.encode(req.prompt);
  // the simulated model reads every word of the prompt; the n-gram context keeps those it knows
  const promptTokens = tokenize(req.prompt).length;
  const temperature = req.temperature === 0 ? 0 : Math.max(req.temperature, quality.minTemperature);
  const options: SamplingOptions = { ...req, temperature };
  await io.clock.sleep(timing.prefillSeconds * 1000);
  const words: string[] = [];
  let last = req.prompt.length > 0 ? "x" : ""; // a word before the first token: space after the prompt
  if (/\s$/.test(req.prompt)) last = "";
  for (let i = 0; i < req.maxNewTokens; i++) {
    const context = history.slice(Math.max(0, history.length - quality.order + 1));
    const p = model.distribution(context, quality.order);
    const w = sample(p, history, options, rng);
    history.push(w);
    const word = model.vocab[w]!;
    await io.clock.sleep(timing.decodeSeconds * 1000);
    io.write(detokenize([word], last));
    words.push(word);
    last = word;
  }
  const decode = timing.decodeSeconds * req.maxNewTokens;
  return {
    text: detokenize(words),
    ids: history,
    promptTokens,
    tokens: req.maxNewTokens,
    temperature,
    prefillSeconds: timing.prefillSeconds,
    decodeSeconds: decode,
    tokensPerSecond: req.maxNewTokens / decode,
  };
}
