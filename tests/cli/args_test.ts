import assert from "node:assert/strict";
import { parseShowArgs } from "../../lib/cli/args.ts";
import { parseDuration } from "../../lib/cli/duration.ts";
import { UsageError } from "../../lib/cli/errors.ts";
import { renderList } from "../../lib/cli/lists.ts";
import { closest, editDistance } from "../../lib/cli/suggest.ts";
import { DATASETS, FUN_MODELS, GPUS, MODELS } from "../../lib/data.ts";

/** The UsageError parseShowArgs throws for `argv`, checked to be one line. */
function usageError(argv: string[]): string {
  try {
    parseShowArgs(argv);
  } catch (e) {
    assert.ok(e instanceof UsageError, `${argv.join(" ")}: ${e}`);
    assert.ok(!e.message.includes("\n"), `more than one line: ${e.message}`);
    return e.message;
  }
  assert.fail(`${argv.join(" ")} was accepted`);
}

Deno.test("parseShowArgs() gives the defaults for no flags", () => {
  assert.deepEqual(parseShowArgs([]), {
    chaos: false,
    format: "text",
    style: null,
    seed: null,
    speed: 1,
    instant: false,
    exitAfterTimeMs: null,
    exitAfterRuns: null,
    model: null,
    displayName: null,
    gpu: null,
    gpus: null,
    precision: null,
    list: null,
    width: null,
    noColor: false,
    record: null,
    help: false,
    version: false,
    startTime: null,
    replayFlags: "",
  });
});

Deno.test("parseShowArgs() takes --record FILE, and refuses an empty name", () => {
  assert.equal(parseShowArgs(["--record", "demo.cast"]).record, "demo.cast");
  assert.match(usageError(["--record", ""]), /--record needs a file name/);
  assert.match(usageError(["--record"]), /--record needs a value/);
});

Deno.test("parseShowArgs() reads every flag", () => {
  const c = parseShowArgs([
    "--seed",
    "7",
    "--speed",
    "2.5",
    "--instant",
    "--exit-after-time",
    "1h30m",
    "--exit-after-runs",
    "3",
    "--model",
    "llama-3.1-8b",
    "--gpu",
    "h100",
    "--gpus",
    "16",
    "--precision",
    "fp8",
    "--list",
    "gpus",
    "--width",
    "100",
    "--no-color",
    "--start-time",
    "2026-11-26T09:00:00Z",
    "--help",
    "--version",
  ]);
  assert.equal(c.seed, 7);
  assert.equal(c.speed, 2.5);
  assert.equal(c.instant, true);
  assert.equal(c.exitAfterTimeMs, 5_400_000);
  assert.equal(c.exitAfterRuns, 3);
  assert.equal(c.model?.id, "llama-3.1-8b");
  assert.equal(c.displayName, null);
  assert.equal(c.gpu?.id, "h100-sxm");
  assert.equal(c.gpus, 16);
  assert.equal(c.precision, "fp8");
  assert.equal(c.list, "gpus");
  assert.equal(c.width, 100);
  assert.equal(c.noColor, true);
  assert.equal(c.startTime, Date.UTC(2026, 10, 26, 9, 0, 0));
  assert.equal(c.help, true);
  assert.equal(c.version, true);
  assert.equal(c.replayFlags, " --model llama-3.1-8b --gpu h100 --gpus 16 --precision fp8");
});

Deno.test("parseShowArgs() accepts -h, -V and --flag=value", () => {
  const c = parseShowArgs(["-h", "-V", "--seed=42", "--width=20"]);
  assert.equal(c.help, true);
  assert.equal(c.version, true);
  assert.equal(c.seed, 42);
  assert.equal(c.width, 20);
});

Deno.test("parseShowArgs() accepts the ends of each range", () => {
  assert.equal(parseShowArgs(["--seed", "0"]).seed, 0);
  assert.equal(parseShowArgs(["--seed", "4294967295"]).seed, 4294967295);
  assert.equal(parseShowArgs(["--speed", "0.01"]).speed, 0.01);
  assert.equal(parseShowArgs(["--speed", "1000"]).speed, 1000);
  assert.equal(parseShowArgs(["--width", "400"]).width, 400);
  for (const n of [1, 5, 8, 16, 1024, 65536]) {
    assert.equal(parseShowArgs(["--gpus", String(n)]).gpus, n);
  }
  for (const p of ["bf16", "fp16", "fp8", "fp32"]) {
    assert.equal(parseShowArgs(["--precision", p]).precision, p);
  }
});

Deno.test("parseShowArgs() quotes replay values with spaces", () => {
  const c = parseShowArgs(["--gpu", "H100 SXM"]);
  assert.equal(c.gpu?.id, "h100-sxm");
  assert.equal(c.replayFlags, ' --gpu "H100 SXM"');
});

Deno.test("parseShowArgs() suggests a close flag for an unknown one", () => {
  const msg = usageError(["--sed", "7"]);
  assert.match(msg, /unknown flag '--sed'/);
  assert.match(msg, /did you mean --seed\b/);
  assert.match(usageError(["--no-colour"]), /did you mean --no-color\?/);
});

Deno.test("parseShowArgs() suggests close model names for an unknown model", () => {
  const msg = usageError(["--model", "lama-3.1-8b"]);
  assert.match(msg, /^--model: unknown model 'lama-3\.1-8b'; did you mean llama-3\.1-8b[,?]/);
  assert.match(msg, /--list models/);
});

Deno.test("parseShowArgs() suggests close GPUs for an unknown GPU", () => {
  const msg = usageError(["--gpu", "h10"]);
  assert.match(msg, /^--gpu: unknown GPU 'h10'; did you mean h100-sxm[,?]/);
  assert.match(msg, /--list gpus/);
});

Deno.test("parseShowArgs() rejects a speed outside 0.01–1000", () => {
  for (const v of ["0", "abc", "0.001", "2000", "", "Infinity"]) {
    const msg = usageError(["--speed", v]);
    assert.match(msg, /^--speed must be a number from 0\.01 to 1000, not '/, v);
  }
});

Deno.test("parseShowArgs() rejects GPU counts that are not 1–8 or whole nodes", () => {
  assert.match(usageError(["--gpus", "12"]), /^--gpus must be 1–8 or a multiple of 8\b.*\b12$/);
  assert.match(usageError(["--gpus", "0"]), /^--gpus must be a whole number from 1 to 65536/);
  assert.match(usageError(["--gpus", "2.5"]), /^--gpus must be a whole number/);
});

Deno.test("parseShowArgs() rejects a width outside 20–400", () => {
  assert.match(
    usageError(["--width", "10"]),
    /^--width must be a whole number from 20 to 400, not '10'$/,
  );
  assert.match(usageError(["--width", "401"]), /^--width must be a whole number from 20 to 400/);
});

Deno.test("parseShowArgs() rejects an unknown precision and list", () => {
  assert.equal(
    usageError(["--precision", "int8"]),
    "--precision must be one of bf16, fp16, fp8, fp32, not 'int8'",
  );
  assert.equal(
    usageError(["--list", "foo"]),
    "--list must be one of models, gpus, datasets, not 'foo'",
  );
});

Deno.test("parseShowArgs() rejects a time limit that is not a duration", () => {
  assert.equal(
    usageError(["--exit-after-time", "soon"]),
    "--exit-after-time must be a duration like 90s, 2m or 1h30m, not 'soon'",
  );
  assert.match(usageError(["--exit-after-time", "0"]), /^--exit-after-time must be a duration/);
});

Deno.test("parseShowArgs() rejects bad seeds, run counts and start times", () => {
  assert.match(
    usageError(["--seed", "1.5"]),
    /^--seed must be a whole number from 0 to 4294967295/,
  );
  assert.match(usageError(["--seed", "4294967296"]), /^--seed must be a whole number/);
  assert.match(usageError(["--exit-after-runs", "0"]), /^--exit-after-runs must be a whole number/);
  assert.match(usageError(["--start-time", "yesterday"]), /^--start-time must be a date like /);
});

Deno.test("parseShowArgs() rejects a stray positional", () => {
  assert.equal(usageError(["play"]), "unknown command 'play' (llm-sim --help lists commands)");
});

Deno.test("parseShowArgs() rejects a missing value and a value on a switch", () => {
  assert.equal(usageError(["--seed"]), "--seed needs a value");
  assert.equal(usageError(["--instant=yes"]), "--instant takes no value");
});

Deno.test("parseShowArgs() resolves fun model names to their base with a display name", () => {
  for (const fun of FUN_MODELS) {
    const c = parseShowArgs(["--model", fun.name]);
    assert.equal(c.model?.id, fun.base, fun.name);
    assert.equal(c.displayName, fun.name);
  }
  const lower = parseShowArgs(["--model", "confabulon-8b"]);
  assert.equal(lower.model?.id, "llama-3.1-8b");
  assert.equal(lower.displayName, "Confabulon-8B");
});

Deno.test("parseShowArgs() finds models and GPUs by id, name and alias", () => {
  for (const m of MODELS) {
    for (const name of [m.id, m.name, ...m.aliases]) {
      assert.equal(parseShowArgs(["--model", name]).model?.id, m.id, name);
    }
  }
  for (const g of GPUS) {
    for (const name of [g.id, g.name, g.smiName, ...g.aliases]) {
      assert.equal(parseShowArgs(["--gpu", name]).gpu?.id, g.id, name);
    }
  }
});

Deno.test("parseShowArgs() reads --list models, gpus and datasets", () => {
  for (const l of ["models", "gpus", "datasets"]) {
    assert.equal(parseShowArgs(["--list", l]).list, l);
  }
});

Deno.test("renderList() lists every catalog entry", () => {
  const models = renderList("models");
  for (const m of MODELS) assert.match(models, new RegExp(`^${RegExp.escape(m.id)} `, "m"));
  for (const f of FUN_MODELS) assert.ok(models.includes(`  ${f.name} → ${f.base}`), f.name);
  const gpus = renderList("gpus");
  for (const g of GPUS) assert.match(gpus, new RegExp(`^${RegExp.escape(g.id)} `, "m"));
  const datasets = renderList("datasets");
  for (const d of DATASETS) assert.match(datasets, new RegExp(`^${RegExp.escape(d.id)} `, "m"));
  for (const text of [models, gpus, datasets]) {
    assert.ok(text.endsWith("\n"));
    assert.ok(!text.includes("\x1b"));
  }
});

Deno.test("parseDuration() reads units, compounds and plain seconds", () => {
  const cases: [string, number][] = [
    ["90s", 90_000],
    ["2m", 120_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["500ms", 500],
    ["45", 45_000],
    ["1.5", 1500],
    ["1d", 86_400_000],
    ["2h15m30s", 8_130_000],
    [" 2M ", 120_000],
    ["0", 0],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

Deno.test("parseDuration() returns null for text that is not a duration", () => {
  for (const text of ["soon", "", "ms", "1x", "-5s", "1h 30m", "h1", "1.s", "5 s"]) {
    assert.equal(parseDuration(text), null, text);
  }
});

Deno.test("editDistance() counts edits", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("seed", "seed"), 0);
  assert.equal(editDistance("sed", "seed"), 1);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
});

Deno.test("closest() ranks near names first and leaves out far ones", () => {
  const names = ["--seed", "--speed", "--model", "--width"].map((n) => ({ spelling: n, name: n }));
  assert.deepEqual(closest("--sed", names), ["--seed", "--speed"]);
  assert.deepEqual(closest("--wdith", names, 1), ["--width"]);
  assert.deepEqual(closest("--zzzzzzzzzzzzzz", names), []);
});

Deno.test("closest() suggests the canonical name for a close alias", () => {
  const entries = [
    { spelling: "h100-sxm", name: "h100-sxm" },
    { spelling: "h100", name: "h100-sxm" },
    { spelling: "a30", name: "a30" },
  ];
  assert.deepEqual(closest("H10", entries), ["h100-sxm", "a30"]);
});

Deno.test("main.ts dispatches every trainer command (its list matches the parser's)", async () => {
  const { TRAINER_WORDS } = await import("../../main.ts");
  const { TRAINER_COMMANDS } = await import("../../lib/cli/trainer_args.ts");
  assert.deepEqual(TRAINER_WORDS, [...TRAINER_COMMANDS, "worker"]);
});
