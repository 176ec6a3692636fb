/**
 * The browser side of web_e2e_test.ts, run as its own process (`deno run -A`): playwright-core
 * reads /proc and the home directory at import, which the test runner's permissions do not
 * cover. Serves the built page on 127.0.0.1, opens it in headless Chromium and prints, as one
 * JSON object, what the xterm.js buffer held in each scenario; screenshots go to the artifacts
 * folder.
 *
 *   deno run -A tests/e2e/_browser.ts CHROMIUM DIST_DIR ARTIFACTS_DIR
 */
import { chromium } from "playwright-core";
import { serveStatic } from "../../web/serve.ts";
import { GOLDEN_START } from "../_golden.ts";

export interface BufferView {
  cols: number;
  rows: number;
  outcome: string | null;
  error: string | null;
  lines: { text: string; wrapped: boolean }[];
}

export interface BrowserReport {
  /** `?seed=26&instant&exit-after-runs=1&width=100&start-time=…` at 1100×700. */
  instant: BufferView;
  /** `?seed=26&speed=100&exit-after-runs=1`, the window shrunk to 640×600 mid-run. */
  resized: { colsBefore: number; after: BufferView };
  /** `?seed=banana`. */
  bad: BufferView;
  /**
   * `?seed=5&instant` with no end, for 10 s: the last step line seen after 5 s and after 10 s
   * (xterm.js discards writes queued past ~50 MB: the show must keep pace with it).
   */
  endless: { error: string | null; at5s: string; at10s: string };
  /** What the static server answers: the page, a path out of its folder, a broken %-escape. */
  served: { page: number; escape: number; malformed: number; missing: number };
  pageErrors: string[];
}

// As root in a closed network: no sandbox, no GPU, no background connections.
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function main(executablePath: string, dist: string, artifacts: string): Promise<void> {
  const server = serveStatic(dist);
  const browser = await chromium.launch({ executablePath, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    const read = () =>
      page.evaluate(() => {
        const s = (globalThis as unknown as {
          llmSim: {
            outcome: string | null;
            error: string | null;
            xterm: {
              cols: number;
              rows: number;
              buffer: {
                active: {
                  length: number;
                  getLine(
                    i: number,
                  ): { isWrapped: boolean; translateToString(trim: boolean): string } | undefined;
                };
              };
            };
          };
        }).llmSim;
        const b = s.xterm.buffer.active;
        const lines = [];
        for (let i = 0; i < b.length; i++) {
          const l = b.getLine(i);
          if (l) lines.push({ text: l.translateToString(true), wrapped: l.isWrapped });
        }
        return {
          cols: s.xterm.cols,
          rows: s.xterm.rows,
          outcome: s.outcome,
          error: s.error,
          lines,
        };
      });
    const until = (cond: string, timeout = 30_000) =>
      page.waitForFunction(cond, null, { timeout, polling: 50 });
    const ended = "globalThis.llmSim && globalThis.llmSim.outcome !== null";

    await page.goto(
      `${server.url}?seed=26&instant&exit-after-runs=1&width=100&start-time=${GOLDEN_START}`,
    );
    await until(ended);
    const instant = await read();
    await page.screenshot({ path: `${artifacts}/web-seed26-instant.png` });

    await page.goto(`${server.url}?seed=26&speed=100&exit-after-runs=1`);
    await until("globalThis.llmSim && globalThis.llmSim.xterm.buffer.active.length > 5");
    const colsBefore = (await read()).cols;
    await page.setViewportSize({ width: 640, height: 600 });
    await until(`globalThis.llmSim.xterm.cols < ${colsBefore}`);
    await until(ended, 60_000);
    const after = await read();
    await page.screenshot({ path: `${artifacts}/web-seed26-resized.png` });

    await page.setViewportSize({ width: 1100, height: 700 });
    await page.goto(`${server.url}?seed=banana`);
    await until(ended);
    const bad = await read();

    await page.goto(`${server.url}?seed=5&instant`);
    const lastStep = async () => {
      const v = await read();
      return v.lines.map((l) => l.text).filter((t) => /\bstep\b|iteration|iter /.test(t)).at(-1) ??
        "";
    };
    await new Promise((r) => setTimeout(r, 5_000));
    const at5s = await lastStep();
    await new Promise((r) => setTimeout(r, 5_000));
    const endless = { error: (await read()).error, at5s, at10s: await lastStep() };
    await page.screenshot({ path: `${artifacts}/web-seed5-endless.png` });

    const status = async (path: string) => {
      const r = await fetch(`${server.url}${path}`);
      await r.body?.cancel();
      return r.status;
    };
    const served = {
      page: await status("index.html"),
      escape: await status("%2e%2e/%2e%2e/deno.json"),
      malformed: await status("%E0%A4%A"),
      missing: await status("nope.js"),
    };

    const report: BrowserReport = {
      instant,
      resized: { colsBefore, after },
      bad,
      endless,
      served,
      pageErrors,
    };
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(report)));
  } finally {
    await browser.close();
    await server.shutdown();
  }
}

if (import.meta.main) {
  const [executablePath, dist, artifacts] = Deno.args;
  if (!executablePath || !dist || !artifacts) {
    throw new Error("usage: _browser.ts CHROMIUM DIST_DIR ARTIFACTS_DIR");
  }
  await main(executablePath, dist, artifacts);
}
