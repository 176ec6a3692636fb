import assert from "node:assert/strict";
import { parseShowArgs } from "../../lib/cli/args.ts";
import { UsageError } from "../../lib/cli/errors.ts";
import { parseQuery } from "../../lib/web/query.ts";

function queryError(search: string): string {
  try {
    parseQuery(search);
  } catch (e) {
    assert.ok(e instanceof UsageError, `${search}: ${e}`);
    assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
    return e.message;
  }
  assert.fail(`${search} was accepted`);
}

function cliError(argv: string[]): string {
  try {
    parseShowArgs(argv);
  } catch (e) {
    assert.ok(e instanceof UsageError);
    return e.message;
  }
  assert.fail(`${argv.join(" ")} was accepted`);
}

Deno.test("parseQuery() reads the issue's example exactly as the command line reads its flags", () => {
  const web = parseQuery("?seed=7&speed=2&model=70b&gpus=1024&style=megatron");
  const cli = parseShowArgs([
    "--seed",
    "7",
    "--speed",
    "2",
    "--model",
    "70b",
    "--gpus",
    "1024",
    "--style",
    "megatron",
  ]);
  assert.deepEqual(web, cli);
  assert.equal(web.seed, 7);
  assert.equal(web.speed, 2);
  assert.equal(web.gpus, 1024);
  assert.equal(web.style, "megatron");
  assert.equal(web.model?.id, cli.model?.id);
  assert.match(web.replayFlags, /--model 70b --gpus 1024 --style megatron/);
});

Deno.test("parseQuery() gives the show's defaults for an empty query", () => {
  assert.deepEqual(parseQuery(""), parseShowArgs([]));
  assert.deepEqual(parseQuery("?"), parseShowArgs([]));
});

Deno.test("parseQuery() turns switches on when present, with no value or 1/true, and off with 0", () => {
  assert.equal(parseQuery("?instant").instant, true);
  assert.equal(parseQuery("?instant=").instant, true);
  assert.equal(parseQuery("?instant=1&chaos=true").chaos, true);
  assert.equal(parseQuery("?instant=0").instant, false);
  assert.equal(parseQuery("?no-color").noColor, true);
  assert.match(queryError("?instant=maybe"), /instant is a switch/);
});

Deno.test("parseQuery() accepts a flag's dashes and URL escapes", () => {
  assert.equal(parseQuery("?--seed=9").seed, 9);
  assert.equal(
    parseQuery("?start-time=2026-11-26T09%3A00%3A00Z").startTime,
    Date.parse("2026-11-26T09:00:00Z"),
  );
});

Deno.test("parseQuery() rejects bad values with the command line's own message", () => {
  const cases: [string, string[]][] = [
    ["?seed=banana", ["--seed", "banana"]],
    ["?speed=0", ["--speed", "0"]],
    ["?gpus=12", ["--gpus", "12"]],
    ["?model=lama-3.1-8b", ["--model", "lama-3.1-8b"]],
    ["?gpu=h10", ["--gpu", "h10"]],
    ["?style=keras", ["--style", "keras"]],
    ["?precision=int8", ["--precision", "int8"]],
    ["?width=5", ["--width", "5"]],
  ];
  for (const [search, argv] of cases) assert.equal(queryError(search), cliError(argv), search);
});

Deno.test("parseQuery() names an unknown option with the closest one, and refuses --record and repeats", () => {
  assert.match(queryError("?sed=1"), /^unknown option 'sed'; did you mean seed\b/);
  assert.match(queryError("?record=demo.cast"), /record writes a file: use the command line/);
  assert.match(queryError("?seed=1&seed=2"), /option 'seed' is given twice/);
});
