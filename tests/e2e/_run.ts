/** Helpers to drive the real program: plain pipes, a pty (`script`) and tmux. */

export const MAIN = new URL("../../main.ts", import.meta.url).pathname;
export const DENO = Deno.execPath();
const dec = new TextDecoder();

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run `deno run <flags> main.ts <args>` with pipes, zero permissions unless flags say so. */
export async function runMain(
  args: string[],
  opts: { denoFlags?: string[]; env?: Record<string, string>; cwd?: string } = {},
): Promise<Ran> {
  const t0 = performance.now();
  const out = await new Deno.Command(DENO, {
    args: ["run", "--no-prompt", ...(opts.denoFlags ?? []), MAIN, ...args],
    env: { TZ: "UTC", NO_COLOR: "", ...opts.env },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: performance.now() - t0,
  };
}

/** Shell-quote one argument. */
export function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The command line that runs the show with zero permissions. */
export function showCommand(args: string[]): string {
  return [DENO, "run", "--no-prompt", MAIN, ...args].map(q).join(" ");
}

export function has(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Poll `check` every 50 ms until it returns a value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | null | Promise<T | null>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const v = await check();
    if (v !== null && v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A process running in a pty made by util-linux `script`; its output is the pty's. */
export class PtyProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #out = "";
  readonly #done: Promise<Deno.CommandStatus>;
  readonly started = performance.now();

  constructor(
    command: string,
    opts: { columns?: number; rows?: number; env?: Record<string, string> } = {},
  ) {
    const cols = opts.columns ?? 120, rows = opts.rows ?? 40;
    const inner = `stty cols ${cols} rows ${rows}; exec ${command}`;
    this.#child = new Deno.Command("script", {
      args: ["-qefc", inner, "/dev/null"],
      // the test runner may run under NO_COLOR=1; the program under test gets it only if asked
      env: { TZ: "UTC", TERM: "xterm-256color", NO_COLOR: "", ...opts.env },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    const reader = this.#child.stdout.getReader();
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.#out += dec.decode(value, { stream: true });
      }
    })();
    this.#child.stderr.cancel();
    this.#done = this.#child.status;
  }

  get output(): string {
    return this.#out;
  }

  /** PID of the program under test (the child `script` runs). */
  programPid(): number | null {
    const out = new Deno.Command("pgrep", {
      args: ["-P", String(this.#child.pid)],
      stdout: "piped",
    })
      .outputSync();
    const pid = Number(dec.decode(out.stdout).trim().split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  async send(s: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(s));
  }

  /** Exit status; the time from start to exit in ms. */
  async wait(): Promise<{ code: number; ms: number }> {
    const st = await this.#done;
    await this.#writer.close().catch(() => {});
    // let the reader drain what is left
    await new Promise((r) => setTimeout(r, 50));
    return { code: st.code, ms: performance.now() - this.started };
  }
}

/** tmux with a private socket, so tests never touch a user's sessions. */
export class Tmux {
  readonly socket = `llm-sim-test-${Deno.pid}-${Math.floor(Math.random() * 1e9)}`;

  #run(args: string[]): string {
    const out = new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    })
      .outputSync();
    if (!out.success) throw new Error(`tmux ${args[0]} failed: ${dec.decode(out.stderr)}`);
    return dec.decode(out.stdout);
  }

  start(
    command: string,
    columns: number,
    rows: number,
    opts: { env?: Record<string, string>; cwd?: string } = {},
  ): void {
    const envs = Object.entries({ TZ: "UTC", NO_COLOR: "", ...opts.env }).map(([k, v]) =>
      `${k}=${q(v)}`
    ).join(" ");
    const cd = opts.cwd ? `cd ${q(opts.cwd)} && ` : "";
    this.#run([
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(columns),
      "-y",
      String(rows),
      `${cd}env ${envs} ${command}; echo EXIT=$?; sleep 60`,
    ]);
  }

  /** The visible pane; with escapes (`-e`) when asked. */
  capture(escapes = false): string {
    return this.#run(["capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", "t"]);
  }

  keys(...keys: string[]): void {
    this.#run(["send-keys", "-t", "t", ...keys]);
  }

  /** A tmux format about the pane, e.g. "#{alternate_on}" or "#{cursor_flag}". */
  display(format: string): string {
    return this.#run(["display-message", "-p", "-t", "t", format]).trim();
  }

  resize(columns: number, rows: number): void {
    this.#run(["resize-window", "-t", "t", "-x", String(columns), "-y", String(rows)]);
  }

  kill(): void {
    try {
      this.#run(["kill-server"]);
    } catch {
      // already gone
    }
  }
}
