/**
 * The terminal a phase writes to. Phases, engine and renderers only ever see this interface;
 * the Deno implementation lives in deno_terminal.ts and an in-memory one serves tests.
 */
export interface Terminal {
  /** Append text (lines end with "\n"). */
  write(s: string): void;
  /** Width in columns (20–400). */
  readonly columns: number;
  /** Height in rows. */
  readonly rows: number;
  /** Colour and attributes allowed. */
  readonly color: boolean;
  /** A TTY: cursor movement and in-place redraws allowed. */
  readonly live: boolean;
}

export const MIN_COLUMNS = 20;
export const MAX_COLUMNS = 400;

export function clampColumns(n: number): number {
  return Math.max(MIN_COLUMNS, Math.min(MAX_COLUMNS, Math.floor(n)));
}
