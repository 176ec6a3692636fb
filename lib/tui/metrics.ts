/**
 * A run's metrics.jsonl, read as it grows: loss per step, validation losses, learning rate,
 * throughput and the latest telemetry of every GPU (or node). Fed text chunks by the shell;
 * keeps at most MAX_POINTS points a series by averaging neighbours when it fills up. Pure.
 */
const MAX_POINTS = 4096;

export interface GpuReading {
  label: string;
  host: string;
  util: number;
  memUsedMiB: number;
  memTotalMiB: number;
  tempC: number;
  powerW: number;
}

/** A series of (step, value) points that halves its resolution when it fills up. */
export class Series {
  steps: number[] = [];
  values: number[] = [];
  /** Raw points averaged into one. */
  #stride = 1;
  #pending: { step: number; sum: number; n: number } | null = null;

  push(step: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const p = this.#pending ?? { step, sum: 0, n: 0 };
    p.step = step;
    p.sum += value;
    p.n++;
    this.#pending = p;
    if (p.n < this.#stride) return;
    this.steps.push(p.step);
    this.values.push(p.sum / p.n);
    this.#pending = null;
    if (this.values.length >= MAX_POINTS) {
      const s: number[] = [], v: number[] = [];
      for (let i = 0; i + 1 < this.values.length; i += 2) {
        s.push(this.steps[i + 1]!);
        v.push((this.values[i]! + this.values[i + 1]!) / 2);
      }
      this.steps = s;
      this.values = v;
      this.#stride *= 2;
    }
  }

  /** Forget the points from `step` on (a replay after a restart or resume starts there). */
  truncateFrom(step: number): void {
    let n = this.steps.length;
    while (n > 0 && this.steps[n - 1]! >= step) n--;
    this.steps.length = n;
    this.values.length = n;
    this.#pending = null;
  }

  get last(): number | null {
    return this.values.length ? this.values[this.values.length - 1]! : null;
  }
}

export class RunMetrics {
  readonly loss = new Series();
  readonly lr = new Series();
  readonly tokensPerSecond = new Series();
  /** Validation losses as they came: few enough to keep all. */
  readonly val: { step: number; loss: number }[] = [];
  /** Latest reading per GPU (or per node, for jobs beyond 64 GPUs), by label. */
  readonly gpus = new Map<string, GpuReading>();
  lastStep = 0;
  /** Bytes of the file consumed so far (the shell reads on from here). */
  offset = 0;
  #partial = "";

  /** Take the next chunk of the file; a trailing partial line waits for the rest. */
  ingest(chunk: string, bytes: number): void {
    this.offset += bytes;
    const text = this.#partial + chunk;
    const end = text.lastIndexOf("\n");
    this.#partial = text.slice(end + 1);
    if (end < 0) return;
    for (const line of text.slice(0, end).split("\n")) {
      if (line.length === 0) continue;
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line);
      } catch {
        continue; // not ours to judge: `status` and the store report broken files
      }
      this.#event(e);
    }
  }

  #event(e: Record<string, unknown>): void {
    const num = (k: string) => (typeof e[k] === "number" ? e[k] as number : NaN);
    switch (e.event) {
      case "step": {
        const step = num("step");
        // a restart or resume replays steps: drop what the replay supersedes
        if (step <= this.lastStep) this.#rewind(step);
        this.lastStep = step;
        this.loss.push(step, num("loss"));
        this.lr.push(step, num("lr"));
        this.tokensPerSecond.push(step, num("tokens_per_s"));
        break;
      }
      case "eval":
        this.val.push({ step: num("step"), loss: num("loss") });
        break;
      case "gpu":
        this.gpus.set(`${e.host}:${e.gpu}`, {
          label: String(e.rank),
          host: String(e.host),
          util: num("util"),
          memUsedMiB: num("mem_used_mib"),
          memTotalMiB: num("mem_total_mib"),
          tempC: num("temp_c"),
          powerW: num("power_w"),
        });
        break;
      case "node":
        this.gpus.set(String(e.host), {
          label: String(e.host),
          host: String(e.host),
          util: num("util_avg"),
          memUsedMiB: num("mem_used_mib_avg"),
          memTotalMiB: NaN,
          tempC: num("temp_c_max"),
          powerW: num("power_w"),
        });
        break;
    }
  }

  #rewind(step: number): void {
    for (const s of [this.loss, this.lr, this.tokensPerSecond]) s.truncateFrom(step);
    while (this.val.length && this.val[this.val.length - 1]!.step >= step) this.val.pop();
  }
}
