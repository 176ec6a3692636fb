/**
 * `deno task serve:web`: serve the built page (dist/web/) on localhost, for a look before
 * publishing and for the browser test. Static files only; nothing outside the folder.
 *
 *   deno task serve:web [--dir DIR] [--port N]     then open http://127.0.0.1:N/?seed=7
 */
import { parseArgs } from "node:util";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  cast: "application/x-asciicast",
  png: "image/png",
  svg: "image/svg+xml",
};

/** Serve `dir` on 127.0.0.1 (`port` 0: any free port); the URL is in `url`. */
export function serveStatic(
  dir: string,
  opts: { port?: number } = {},
): { url: string; shutdown: () => Promise<void> } {
  const root = dir.replace(/\/$/, "");
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    onListen: () => {},
  }, async (req) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return new Response("bad path\n", { status: 400 }); // a malformed %-escape
    }
    if (path.split("/").includes("..")) return new Response("bad path\n", { status: 400 });
    const file = root + (path.endsWith("/") ? path + "index.html" : path);
    try {
      const body = await Deno.readFile(file);
      const ext = file.slice(file.lastIndexOf(".") + 1);
      return new Response(body, {
        headers: { "content-type": TYPES[ext] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("not found\n", { status: 404 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    shutdown: () => server.shutdown(),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { dir: { type: "string" }, port: { type: "string" } },
  });
  const dir = values.dir ?? new URL("../dist/web/", import.meta.url).pathname;
  const s = serveStatic(dir, { port: Number(values.port ?? 8000) });
  Deno.stdout.writeSync(
    new TextEncoder().encode(`serving ${dir} at ${s.url}?seed=7 (Ctrl-C to stop)\n`),
  );
}
