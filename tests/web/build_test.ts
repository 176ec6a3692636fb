/**
 * web/build.ts: the page's module graph and bundle are checked for what cannot run in a
 * browser, loudly and naming the chain; the real build passes and holds xterm.js.
 */
import assert from "node:assert/strict";
import { buildWeb, checkBundle, checkWebGraph, WebBuildError } from "../../web/build.ts";

const F = "tests/web/fixtures";

Deno.test("checkWebGraph() names a Deno shell module the page reaches, with the import chain", async () => {
  await assert.rejects(
    checkWebGraph(`${F}/uses_shell.ts`),
    (e: unknown) => {
      assert.ok(e instanceof WebBuildError);
      assert.match(
        e.message,
        /lib\/shell\/io\.ts belongs to the Deno shell: tests\/web\/fixtures\/uses_shell\.ts → lib\/shell\/io\.ts/,
      );
      assert.match(e.message, /lib\/shell\/io\.ts uses the Deno global \(lib\/shell\/io\.ts:\d+\)/);
      return true;
    },
  );
});

Deno.test("checkWebGraph() names a node: built-in and the module that imports it", async () => {
  await assert.rejects(
    checkWebGraph(`${F}/uses_node.ts`),
    /node:util is a Node\.js built-in, not in browsers: tests\/web\/fixtures\/uses_node\.ts → lib\/cli\/flags\.ts → node:util/,
  );
});

Deno.test("checkWebGraph() names a module that uses the Deno global, at its line", async () => {
  await assert.rejects(
    checkWebGraph(`${F}/uses_deno.ts`),
    /tests\/web\/fixtures\/uses_deno\.ts uses the Deno global \(tests\/web\/fixtures\/uses_deno\.ts:5\)/,
  );
});

Deno.test("checkWebGraph() sees the Deno global taken apart too (const { pid } = Deno)", async () => {
  await assert.rejects(
    checkWebGraph(`${F}/uses_deno_destructured.ts`),
    /uses_deno_destructured\.ts uses the Deno global \(tests\/web\/fixtures\/uses_deno_destructured\.ts:2\)/,
  );
});

Deno.test("checkWebGraph() lets type-only imports pass, and the page's own graph", async () => {
  assert.ok(await checkWebGraph(`${F}/type_only.ts`) > 3);
  assert.ok(await checkWebGraph() > 30, "lib/web/main.ts and the core it plays");
});

Deno.test("checkBundle() refuses a bundle that mentions Deno APIs or node: imports", () => {
  checkBundle(`(()=>{var e="Denominator";console.log(e)})();`);
  assert.throws(() => checkBundle(`var a=Deno.stdout;`), /'Deno\.stdout' at offset 6/);
  assert.throws(() => checkBundle(`var{env:jS}=Deno;`), /'Deno' at offset 12/);
  assert.throws(() => checkBundle(`import{parseArgs as p}from"node:util";`), /"node:util"/);
});

Deno.test("buildWeb() writes index.html and one browser-only app.js with xterm.js inside", async () => {
  const dir = await Deno.makeTempDir({ prefix: "llm-sim-web-" });
  try {
    const b = await buildWeb({ outDir: dir });
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), ["app.js", "index.html"]);
    const html = await Deno.readTextFile(`${dir}/index.html`);
    assert.match(html, /<script src="app\.js" defer><\/script>/);
    assert.doesNotMatch(html, /https?:\/\//, "no CDN: everything is in the folder");
    const app = await Deno.readTextFile(`${dir}/app.js`);
    checkBundle(app);
    assert.match(app, /xterm-helper-textarea/, "xterm.js is bundled");
    assert.match(app, /\.xterm-viewport/, "and its CSS");
    assert.ok(b.bundleBytes < 1_500_000, `bundle ${b.bundleBytes} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
