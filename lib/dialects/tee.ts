/**
 * One run, two dialects: the first prints to the screen as usual, the second (the JSONL
 * stream) goes line by line to a sink at the same moments — `llm-sim train` shows its logs
 * and keeps metrics.jsonl from one simulation.
 */
import type { WarningSpec } from "../data.ts";
import type { ShardPlan } from "../engine/artifacts.ts";
import type { OutOfMemory, RunEvent } from "../engine/events.ts";
import type { CheckpointRecord, EvalRecord, StepRecord } from "../engine/run.ts";
import type { Beat, RunContext } from "../phases/context.ts";
import type { Dialect, LiveState, LogWindow } from "./dialect.ts";

type BeatMethod =
  | "launch"
  | "distributed"
  | "model"
  | "data"
  | "trainStart"
  | "evalStart"
  | "jobFailed"
  | "windowEnd"
  | "trainEnd";

export class TeeDialect implements Dialect {
  readonly name: string;
  readonly #screen: Dialect;
  readonly #stream: Dialect;
  readonly #sink: (lines: string) => void;

  constructor(screen: Dialect, stream: Dialect, sink: (lines: string) => void) {
    this.name = screen.name;
    this.#screen = screen;
    this.#stream = stream;
    this.#sink = sink;
  }

  #write(text: string): void {
    if (text.length > 0) this.#sink(text);
  }

  /** The screen's beats, then the stream's, written when their turn comes (no extra pause). */
  #both(shown: Beat[], streamed: Beat[]): Beat[] {
    return [
      ...shown,
      ...streamed.map((b): Beat => ({
        wait: 0,
        text: () => {
          this.#write(typeof b.text === "function" ? b.text() : b.text);
          return "";
        },
      })),
    ];
  }

  #beats(m: BeatMethod, ctx: RunContext): Beat[] {
    return this.#both(this.#screen[m](ctx), this.#stream[m](ctx));
  }

  launch(ctx: RunContext): Beat[] {
    return this.#beats("launch", ctx);
  }
  distributed(ctx: RunContext): Beat[] {
    return this.#beats("distributed", ctx);
  }
  model(ctx: RunContext): Beat[] {
    return this.#beats("model", ctx);
  }
  loadBar(ctx: RunContext, frac: number, elapsed: number): string {
    return this.#screen.loadBar(ctx, frac, elapsed);
  }
  loaded(ctx: RunContext, seconds: number): Beat[] {
    return this.#both(this.#screen.loaded(ctx, seconds), this.#stream.loaded(ctx, seconds));
  }
  data(ctx: RunContext): Beat[] {
    return this.#beats("data", ctx);
  }
  trainStart(ctx: RunContext): Beat[] {
    return this.#beats("trainStart", ctx);
  }
  stepRecord(ctx: RunContext, r: StepRecord): string {
    this.#write(this.#stream.stepRecord?.(ctx, r) ?? "");
    return this.#screen.stepRecord?.(ctx, r) ?? "";
  }
  logsAt(ctx: RunContext, step: number, last: boolean): boolean {
    return this.#screen.logsAt
      ? this.#screen.logsAt(ctx, step, last)
      : step % ctx.cfg.logInterval === 0 || last;
  }
  stepLog(ctx: RunContext, w: LogWindow): string {
    return this.#screen.stepLog(ctx, w);
  }
  live(ctx: RunContext, s: LiveState): string[] {
    return this.#screen.live(ctx, s);
  }
  evalStart(ctx: RunContext): Beat[] {
    return this.#beats("evalStart", ctx);
  }
  evalBar(ctx: RunContext, frac: number, elapsed: number): string {
    return this.#screen.evalBar(ctx, frac, elapsed);
  }
  evalDone(ctx: RunContext, e: EvalRecord): Beat[] {
    return this.#both(this.#screen.evalDone(ctx, e), this.#stream.evalDone(ctx, e));
  }
  checkpointDir(ctx: RunContext, step: number): string {
    return this.#screen.checkpointDir(ctx, step);
  }
  checkpointStart(ctx: RunContext, dir: string): Beat[] {
    return this.#both(
      this.#screen.checkpointStart(ctx, dir),
      this.#stream.checkpointStart(ctx, dir),
    );
  }
  checkpointDone(ctx: RunContext, c: CheckpointRecord, dir: string): Beat[] {
    return this.#both(
      this.#screen.checkpointDone(ctx, c, dir),
      this.#stream.checkpointDone(ctx, c, dir),
    );
  }
  event(ctx: RunContext, e: RunEvent): Beat[] {
    return this.#both(this.#screen.event(ctx, e), this.#stream.event(ctx, e));
  }
  jobFailed(ctx: RunContext): Beat[] {
    return this.#beats("jobFailed", ctx);
  }
  oom(ctx: RunContext, o: OutOfMemory): Beat[] {
    return this.#both(this.#screen.oom(ctx, o), this.#stream.oom(ctx, o));
  }
  warning(ctx: RunContext, w: WarningSpec, lines: string[]): string {
    this.#write(this.#stream.warning(ctx, w, lines));
    return this.#screen.warning(ctx, w, lines);
  }
  windowEnd(ctx: RunContext): Beat[] {
    return this.#beats("windowEnd", ctx);
  }
  trainEnd(ctx: RunContext): Beat[] {
    return this.#beats("trainEnd", ctx);
  }
  exportStart(ctx: RunContext, plan: ShardPlan): Beat[] {
    return this.#both(this.#screen.exportStart(ctx, plan), this.#stream.exportStart(ctx, plan));
  }
  exportFile(ctx: RunContext, name: string, bytes: number): string {
    this.#write(this.#stream.exportFile(ctx, name, bytes));
    return this.#screen.exportFile(ctx, name, bytes);
  }
  exportDone(ctx: RunContext, plan: ShardPlan): Beat[] {
    return this.#both(this.#screen.exportDone(ctx, plan), this.#stream.exportDone(ctx, plan));
  }
  summary(ctx: RunContext): string[] {
    this.#write(this.#stream.summary(ctx).join("\n"));
    return this.#screen.summary(ctx);
  }
}
