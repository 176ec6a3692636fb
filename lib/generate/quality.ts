/**
 * How good a checkpoint's text is: its simulated loss decides how much of the language model
 * the sampler may use. A model near ln(vocab) nats has learned nothing past word frequencies
 * (unigram noise, hot); one near a well-trained small model's loss uses long contexts and
 * samples cooler. Both are monotone in the loss; README documents the table.
 */
import { MAX_ORDER } from "./ngram.ts";

/** Loss (nats) of a well-trained small model on its own data: where quality saturates. */
export const TRAINED_LOSS = 3.0;

export interface Quality {
  /** 0 (untrained) … 1 (trained). */
  q: number;
  /** Longest n-gram order the sampler uses (1 = unigram). */
  order: number;
  /** Sampling is never cooler than this (temperature 0, greedy, is still allowed). */
  minTemperature: number;
}

export function qualityFor(loss: number, vocab: number): Quality {
  const top = Math.log(vocab);
  const q = Math.min(1, Math.max(0, (top - loss) / (top - TRAINED_LOSS)));
  return {
    q,
    order: Math.min(MAX_ORDER, 1 + Math.floor(q * MAX_ORDER)),
    minTemperature: 0.3 + 1.2 * (1 - q),
  };
}
