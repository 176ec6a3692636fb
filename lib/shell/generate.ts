/**
 * `llm-sim generate`'s shell: find the run and checkpoint on disk, build the language model,
 * stream the text to stdout at the engine's decode speed.
 */
import { type Clock, Interrupted, RealClock, VirtualClock } from "../core/clock.ts";
import { UsageError } from "../cli/errors.ts";
import { GENERATE_HELP, type GenerateArgs } from "../cli/generate_args.ts";
import { findModel } from "../cli/catalog.ts";
import { decodeSeconds, prefillSeconds } from "../engine/inference.ts";
import { CORPUS } from "../generate/corpus.ts";
import { NgramModel, tokenize } from "../generate/ngram.ts";
import { qualityFor } from "../generate/quality.ts";
import { generate } from "../generate/session.ts";
import { fixed } from "../render/format.ts";
import { StoreError } from "../store/schema.ts";
import type { RunStore } from "../store/disk.ts";
import { deviceSpec } from "../trainer/session.ts";
import { listen, randomUint32, writeErr, writeOut } from "./io.ts";
import { observe, savedCheckpoint, storeOf } from "./trainer.ts";

let shared: NgramModel | null = null;

/** The language model, built once a process (about 0.3 s). */
export function languageModel(): NgramModel {
  return shared ??= new NgramModel(CORPUS);
}

/**
 * What a generation from run `id` needs: its checkpoint (latest, or the given step), the
 * quality its loss allows, the language model and the engine's decode timing. UsageError
 * when there is no such checkpoint.
 */
export function prepareGeneration(
  store: RunStore,
  id: string,
  checkpoint: number | "latest",
  prompt: string,
) {
  const { meta } = observe(store, id);
  const step = savedCheckpoint(
    store,
    id,
    checkpoint,
    `run ${id} has no checkpoint yet: generate needs one (llm-sim status ${id})`,
  );
  const m = store.checkpoint(id, step);
  // the validation loss when it was measured at this step; else the training loss there
  const fresh = m.valStep === undefined || m.valStep === m.step;
  const loss = fresh ? m.valLoss ?? m.loss : m.loss ?? m.valLoss;
  if (loss === null) throw new UsageError(`checkpoint step-${step} of run ${id} records no loss`);
  const preset = findModel(meta.config.model);
  if (!preset) throw new UsageError(`run ${id} names an unknown model '${meta.config.model}'`);
  const arch = preset.model.arch;
  const gpu = deviceSpec(meta.device);
  const model = languageModel();
  const timing = {
    prefillSeconds: prefillSeconds(
      arch,
      gpu,
      meta.precision,
      tokenize(prompt).length,
      meta.device.count,
    ),
    decodeSeconds: decodeSeconds(arch, gpu, meta.precision, meta.device.count),
  };
  return { meta, step, loss, quality: qualityFor(loss, arch.vocab), model, timing };
}

/** The statistics line inference tools print after the text. */
export function statsLine(
  r: {
    tokens: number;
    decodeSeconds: number;
    tokensPerSecond: number;
    promptTokens: number;
    prefillSeconds: number;
  },
  p: {
    meta: { id: string; device: { torchDevice: string; name: string } };
    step: number;
    loss: number;
    quality: { order: number; minTemperature: number };
  },
  seed: number,
): string {
  return `[${r.tokens} tokens in ${fixed(r.decodeSeconds, 2)} s, ${
    fixed(r.tokensPerSecond, 1)
  } tokens/s` +
    ` · prompt ${r.promptTokens} tokens in ${
      fixed(r.prefillSeconds * 1000, 1)
    } ms · ${p.meta.device.torchDevice} ${p.meta.device.name}` +
    ` · ${p.meta.id} step-${p.step}, loss ${fixed(p.loss, 2)} → ${p.quality.order}-gram, T ≥ ${
      fixed(p.quality.minTemperature, 2)
    }; seed ${seed}]`;
}

export async function generateMain(a: GenerateArgs): Promise<number> {
  if (a.help) {
    writeOut(GENERATE_HELP);
    return 0;
  }
  try {
    const store = storeOf(a.runsDir, false);
    let id: string;
    if (a.run !== null) id = store.resolve(a.run);
    else {
      const done = store.list().find((r) => r.state?.status === "completed");
      if (!done) {
        throw new UsageError(
          `no completed run in ${store.root} to sample from (name one with --run, or finish one with llm-sim train)`,
        );
      }
      id = done.id;
    }
    const { meta, step, loss, quality, model, timing } = prepareGeneration(
      store,
      id,
      a.checkpoint,
      a.prompt,
    );
    const seed = a.seed ?? randomUint32();
    const controller = new AbortController();
    const off = [
      listen("SIGINT", () => controller.abort()),
      listen("SIGTERM", () => controller.abort()),
    ];
    const clock: Clock = a.json || a.pace.instant
      ? new VirtualClock(Date.now(), {
        signal: controller.signal,
        wallNow: () => performance.now(),
      })
      : new RealClock({
        speed: a.pace.speed,
        startMs: Date.now(),
        realNow: () => performance.now(),
        signal: controller.signal,
      });
    let broken = false;
    const write = (s: string) => {
      if (!a.json && !broken && !writeOut(s)) {
        broken = true; // | head: stop quietly
        controller.abort();
      }
    };
    if (!a.json) write(a.prompt);
    try {
      const r = await generate(
        model,
        quality,
        {
          prompt: a.prompt,
          maxNewTokens: a.maxNewTokens,
          temperature: a.temperature,
          topK: a.topK,
          topP: a.topP,
          repetitionPenalty: a.repetitionPenalty,
          seed,
        },
        timing,
        { clock, write },
      );
      const device = `${meta.device.torchDevice} ${meta.device.name}`;
      if (a.json) {
        writeOut(
          JSON.stringify({
            run: id,
            checkpoint: step,
            loss,
            quality: {
              q: quality.q,
              order: quality.order,
              min_temperature: quality.minTemperature,
            },
            seed,
            prompt: a.prompt,
            text: r.text,
            prompt_tokens: r.promptTokens,
            tokens: r.tokens,
            temperature: r.temperature,
            prefill_s: r.prefillSeconds,
            decode_s: r.decodeSeconds,
            tokens_per_s: r.tokensPerSecond,
            device,
          }) + "\n",
        );
      } else {
        write(`\n\n${statsLine(r, { meta, step, loss, quality }, seed)}\n`);
      }
      return 0;
    } catch (e) {
      if (e instanceof Interrupted) {
        if (!broken) write("\n");
        return broken ? 0 : 130;
      }
      throw e;
    } finally {
      for (const o of off) o();
    }
  } catch (e) {
    if (e instanceof StoreError) {
      writeErr(`llm-sim: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
