/**
 * `--record FILE`: the file an asciicast goes to. Asks for nothing: without --allow-write=FILE
 * the show refuses up front (one line, exit 2), so the show without --record keeps needing no
 * permission at all. Lines are buffered and written in 64 KiB blocks.
 */
import { UsageError } from "../cli/errors.ts";
import { granted } from "./io.ts";

const FLUSH_AT = 1 << 16;

export interface CastFile {
  /** Append one line of the recording. */
  write(line: string): void;
  /** Write out what is buffered. */
  flush(): void;
  close(): void;
  /** Close without writing: a file that was there stays as it was, a new one is removed. */
  discard(): void;
}

export function openCastFile(path: string): CastFile {
  if (!granted({ name: "write", path })) {
    throw new UsageError(
      `--record ${path} needs --allow-write=${path} (deno run --allow-write=${path} main.ts … --record ${path})`,
    );
  }
  // an existing file is emptied only when the recording's first bytes go out, so a show that
  // refuses to start (a configuration that cannot run) leaves it as it was
  let file: Deno.FsFile;
  let created = true;
  try {
    try {
      file = Deno.openSync(path, { write: true, createNew: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      created = false;
      file = Deno.openSync(path, { write: true });
    }
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such directory"
      : e instanceof Error
      ? e.message
      : String(e);
    throw new UsageError(`--record cannot write '${path}': ${why}`);
  }
  const enc = new TextEncoder();
  let buf: string[] = [];
  let size = 0;
  let open = true;
  let emptied = created;
  const flush = () => {
    if (!open || buf.length === 0) return;
    if (!emptied) {
      // a file that was there is replaced; /dev/null, a pipe or a terminal cannot be truncated
      // (EINVAL), and need not be
      try {
        file.truncateSync(0);
      } catch (e) {
        if ((e as { code?: string }).code !== "EINVAL") throw e;
      }
      emptied = true;
    }
    const data = enc.encode(buf.join(""));
    buf = [];
    size = 0;
    let off = 0;
    while (off < data.length) off += file.writeSync(data.subarray(off));
  };
  return {
    write(line) {
      buf.push(line);
      size += line.length;
      if (size >= FLUSH_AT) flush();
    },
    flush,
    close() {
      flush();
      if (open) file.close();
      open = false;
    },
    discard() {
      if (!open) return;
      file.close();
      open = false;
      if (created) Deno.removeSync(path);
    },
  };
}
