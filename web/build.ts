/**
 * `deno task build:web`: the show for the browser, as a static folder (default dist/web/):
 * index.html and app.js, one minified bundle of lib/web/main.ts with xterm.js (from npm) and its
 * CSS inside. Works offline once the npm cache holds esbuild and xterm.
 *
 * It fails loudly, naming the module and the import chain that reaches it, when the page's
 * module graph holds anything that cannot run in a browser: a `node:` import, a module of the
 * Deno shell (main.ts, lib/shell/, lib/store/disk.ts, lib/term/deno_terminal.ts), or a module
 * that uses the `Deno` global; and again if the finished bundle mentions `Deno.` or `node:`.
 *
 *   deno task build:web                 (→ dist/web/)
 *   deno run --allow-read --allow-write=DIR --allow-run web/build.ts --out DIR
 */
import { parseArgs } from "node:util";

const ROOT = new URL("../", import.meta.url);
export const ENTRY = "lib/web/main.ts";
/** Modules of the Deno shell: the page must never reach them. */
const SHELL_ONLY = [
  /^main\.ts$/,
  /^lib\/shell\//,
  /^lib\/store\/disk\.ts$/,
  /^lib\/term\/deno_terminal\.ts$/,
];
/** Any use of the global: `Deno.pid`, `Deno["pid"]`, `const { pid } = Deno` (comments aside). */
const DENO_GLOBAL = /\bDeno\b/;

export class WebBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebBuildError";
  }
}

export interface WebBuild {
  dir: string;
  /** Bytes of app.js and index.html. */
  bundleBytes: number;
  htmlBytes: number;
  /** Modules of the repository the bundle holds. */
  modules: number;
}

interface InfoModule {
  specifier: string;
  local?: string;
  mediaType?: string;
  dependencies?: { specifier: string; code?: { specifier?: string } }[];
}

const dec = new TextDecoder();

async function deno(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!out.success) {
    throw new WebBuildError(
      `deno ${args[0]} failed:\n${dec.decode(out.stderr).trim() || dec.decode(out.stdout).trim()}`,
    );
  }
  return dec.decode(out.stdout);
}

function rel(specifier: string): string {
  return specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : specifier;
}

/** Code without comments (a `Deno` in a doc comment is no use of the global). */
function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, "")).replace(
    /(^|[^:"'`])\/\/[^\n]*/g,
    "$1",
  );
}

/**
 * The modules `entry` reaches through value imports (type-only imports vanish from a bundle),
 * with the chain that reaches each, checked for what a browser cannot run.
 */
export async function checkWebGraph(entry = ENTRY): Promise<number> {
  const info = JSON.parse(await deno(["info", "--json", entry])) as {
    roots: string[];
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  const bySpec = new Map(info.modules.map((m) => [m.specifier, m]));
  const resolve = (s: string) => info.redirects[s] ?? s;
  const root = resolve(info.roots[0] as string);
  const via = new Map<string, string | null>([[root, null]]);
  const queue = [root];
  const problems: string[] = [];
  const chain = (s: string): string => {
    const path: string[] = [];
    for (let cur: string | null = s; cur !== null; cur = via.get(cur) ?? null) {
      path.unshift(rel(cur));
    }
    return path.join(" → ");
  };
  let local = 0;
  while (queue.length > 0) {
    const spec = queue.shift() as string;
    if (spec.startsWith("node:")) {
      problems.push(`${spec} is a Node.js built-in, not in browsers: ${chain(spec)}`);
      continue;
    }
    if (!spec.startsWith(ROOT.href)) continue; // npm packages: the bundle check below covers them
    local++;
    const path = rel(spec);
    if (SHELL_ONLY.some((re) => re.test(path))) {
      problems.push(`${path} belongs to the Deno shell: ${chain(spec)}`);
    }
    const m = bySpec.get(spec);
    if (m?.local && /^(TypeScript|JavaScript|TSX|JSX)$/.test(m.mediaType ?? "")) {
      const code = stripComments(await Deno.readTextFile(m.local));
      const hit = DENO_GLOBAL.exec(code);
      if (hit) {
        const line = code.slice(0, hit.index).split("\n").length;
        problems.push(`${path} uses the Deno global (${path}:${line}): ${chain(spec)}`);
      }
    }
    for (const d of m?.dependencies ?? []) {
      const next = d.code?.specifier;
      if (next === undefined) continue; // type-only
      const r = resolve(next);
      if (via.has(r)) continue;
      via.set(r, spec);
      queue.push(r);
    }
  }
  if (problems.length > 0) {
    throw new WebBuildError(
      `the page reaches code that cannot run in a browser:\n  ${problems.join("\n  ")}`,
    );
  }
  return local;
}

/** What the finished bundle must not contain: a Deno API or a `node:` import left external. */
export function checkBundle(code: string): void {
  const bad: string[] = [];
  const deno = /\bDeno\b(\.[A-Za-z]+)?/.exec(code);
  if (deno) bad.push(`'${deno[0]}' at offset ${deno.index}`);
  const node = /["']node:[\w/]+["']/.exec(code);
  if (node) bad.push(`an import of ${node[0]} at offset ${node.index}`);
  if (bad.length > 0) {
    throw new WebBuildError(`the bundle is not browser-only: ${bad.join("; ")}`);
  }
}

export async function buildWeb(opts: { outDir?: string } = {}): Promise<WebBuild> {
  const dir = opts.outDir ?? new URL("dist/web/", ROOT).pathname;
  const modules = await checkWebGraph();
  await Deno.mkdir(dir, { recursive: true });
  const app = `${dir.replace(/\/$/, "")}/app.js`;
  await deno([
    "bundle",
    "--quiet",
    "--check",
    "--platform=browser",
    "--format=iife",
    "--minify",
    "-o",
    app,
    ENTRY,
  ]);
  const code = await Deno.readTextFile(app);
  checkBundle(code);
  const html = await Deno.readTextFile(new URL("web/index.html", ROOT));
  await Deno.writeTextFile(`${dir.replace(/\/$/, "")}/index.html`, html);
  return {
    dir,
    bundleBytes: new TextEncoder().encode(code).length,
    htmlBytes: new TextEncoder().encode(html).length,
    modules,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
  // the task may write dist/web only: another folder needs its own permission, asked for by name
  const out = values.out;
  if (out && Deno.permissions.querySync({ name: "write", path: out }).state !== "granted") {
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        `build:web: --out ${out} needs --allow-write=${out}: deno run --allow-read --allow-write=${out} --allow-run web/build.ts --out ${out}\n`,
      ),
    );
    Deno.exit(2);
  }
  try {
    const b = await buildWeb(out ? { outDir: out } : {});
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    Deno.stdout.writeSync(
      new TextEncoder().encode(
        `built ${b.dir}: app.js ${
          kb(b.bundleBytes)
        } (${b.modules} modules of llm-sim + xterm.js), index.html ${kb(b.htmlBytes)}\n`,
      ),
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    Deno.stderr.writeSync(new TextEncoder().encode(`build:web: ${msg}\n`));
    Deno.exit(1);
  }
}
