/** The shell's small Deno helpers: stdout/stderr that never throw, and signal listeners. */
const encoder = new TextEncoder();

export function writeOut(s: string): boolean {
  try {
    const data = encoder.encode(s);
    let off = 0;
    while (off < data.length) off += Deno.stdout.writeSync(data.subarray(off));
    return true;
  } catch {
    return false; // reader gone (| head): nothing to do
  }
}

export function writeErr(s: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(s));
  } catch {
    // stderr closed
  }
}

export function listen(signal: Deno.Signal, fn: () => void): () => void {
  try {
    Deno.addSignalListener(signal, fn);
    return () => Deno.removeSignalListener(signal, fn);
  } catch {
    return () => {}; // not supported on this platform (Windows: SIGTERM, SIGWINCH)
  }
}

export function randomUint32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] as number;
}

/** A permission granted without asking (the trainer never prompts). */
export function granted(desc: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}
