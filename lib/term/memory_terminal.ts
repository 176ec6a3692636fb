/** An in-memory terminal for tests: collects everything written. */
import type { Terminal } from "./terminal.ts";

export class MemoryTerminal implements Terminal {
  readonly columns: number;
  readonly rows: number;
  readonly color: boolean;
  readonly live: boolean;
  readonly chunks: string[] = [];

  constructor(opts: { columns?: number; rows?: number; color?: boolean; live?: boolean } = {}) {
    this.columns = opts.columns ?? 80;
    this.rows = opts.rows ?? 24;
    this.color = opts.color ?? false;
    this.live = opts.live ?? false;
  }

  write(s: string): void {
    this.chunks.push(s);
  }

  get text(): string {
    return this.chunks.join("");
  }
}
