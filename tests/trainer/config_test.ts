import assert from "node:assert/strict";
import { UsageError } from "../../lib/cli/errors.ts";
import { parseFlags } from "../../lib/cli/flags.ts";
import { parseTrainerArgs } from "../../lib/cli/trainer_args.ts";
import { DATASETS } from "../../lib/data.ts";
import {
  CONFIG_KEYS,
  configArgv,
  configFlagSpec,
  configFromFlags,
  DEFAULT_TRAIN_CONFIG,
  initConfigText,
  mergeConfig,
  parseConfigToml,
  validateConfig,
} from "../../lib/trainer/config.ts";
import type { TrainConfig } from "../../lib/trainer/types.ts";

/** The one-line UsageError `f` throws. */
function usageError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    assert.ok(!e.message.includes("\n"), `more than one line: ${e.message}`);
    return e.message;
  }
  assert.fail("no error");
}

const tomlError = (text: string, file = "llm-sim.toml") =>
  usageError(() => parseConfigToml(text, file));
const flags = (argv: string[]) =>
  configFromFlags(parseFlags(argv, configFlagSpec, "llm-sim train"));

Deno.test("the defaults are the small local run", () => {
  assert.deepEqual(DEFAULT_TRAIN_CONFIG, {
    model: "gpt2",
    dataset: "wikitext-2",
    seqLen: 1024,
    batchSize: 8,
    gradAccum: 4,
    workers: 4,
    epochs: 3,
    lr: 6e-4,
    minLr: 6e-5,
    warmupSteps: 100,
    schedule: "cosine",
    precision: "auto",
    seed: 1337,
    evalEvery: 0,
    saveEvery: 0,
    device: "auto",
    gpus: 1,
    strictDevice: false,
  });
  validateConfig(DEFAULT_TRAIN_CONFIG);
});

Deno.test("every TrainConfig field has exactly one key and one flag", () => {
  assert.deepEqual(
    CONFIG_KEYS.map((k) => k.field).sort(),
    Object.keys(DEFAULT_TRAIN_CONFIG).sort(),
  );
  assert.deepEqual(
    CONFIG_KEYS.map((k) => k.flag),
    "--model --dataset --seq-len --batch-size --grad-accum --workers --epochs --lr --min-lr --warmup-steps --schedule --precision --seed --eval-every --save-every --device --gpus --strict-device"
      .split(" "),
  );
  assert.deepEqual(
    CONFIG_KEYS.map((k) => `${k.section}.${k.key}`),
    "model.preset data.dataset data.seq_len data.batch_size data.grad_accum data.workers train.epochs train.lr train.min_lr train.warmup_steps train.schedule train.precision train.seed train.eval_every train.save_every device.device device.gpus device.strict"
      .split(" "),
  );
  assert.deepEqual(Object.keys(configFlagSpec), CONFIG_KEYS.map((k) => k.flag.slice(2)));
  assert.equal(configFlagSpec["strict-device"]?.type, "boolean");
  assert.equal(configFlagSpec["epochs"]?.type, "string");
});

Deno.test("initConfigText() parses back to the defaults", () => {
  const text = initConfigText();
  assert.deepEqual(parseConfigToml(text, "llm-sim.toml"), DEFAULT_TRAIN_CONFIG);
  assert.deepEqual(mergeConfig(parseConfigToml(text, "llm-sim.toml")), DEFAULT_TRAIN_CONFIG);
});

Deno.test("initConfigText() comments every key with its meaning, allowed values and flag", () => {
  const lines = initConfigText().split("\n");
  assert.match(lines.slice(0, 4).join(" "), /Flags override this file/);
  for (const k of CONFIG_KEYS) {
    const i = lines.findIndex((l) => l.startsWith(`${k.key} = `));
    assert.ok(i > 0, k.key);
    assert.ok(lines[i - 1]?.startsWith("# "), k.key);
    assert.ok(lines[i - 1]?.endsWith(`(${k.flag})`), lines[i - 1]);
    assert.ok(!lines.slice(i + 1).some((l) => l.startsWith(`${k.key} = `)), `${k.key} twice`);
  }
  assert.ok(lines.includes("# passes over the dataset; an integer from 1 to 10000 (--epochs)"));
  assert.ok(lines.includes(`schedule = "cosine"`));
  assert.ok(lines.includes("lr = 6e-4"));
  assert.ok(lines.includes("strict = false"));
});

Deno.test("parseConfigToml() reads a partial file, normalizing the dataset to its id", () => {
  const text = `# my run
[model]
preset = "124m"   # an alias

[data]
dataset = "wikitext-2-raw-v1"
batch_size = 16

[train]
lr = 3e-4
schedule = 'wsd'
precision = "fp32"

[device]
device = "cuda:1"
strict = true
`;
  assert.deepEqual(parseConfigToml(text, "llm-sim.toml"), {
    model: "124m",
    dataset: "wikitext-2",
    batchSize: 16,
    lr: 3e-4,
    schedule: "wsd",
    precision: "fp32",
    device: "cuda:1",
    strictDevice: true,
  });
  assert.deepEqual(parseConfigToml("", "llm-sim.toml"), {});
  assert.deepEqual(parseConfigToml("[train]\n", "llm-sim.toml"), {});
});

Deno.test("a TOML syntax error names the file and line", () => {
  assert.match(
    tomlError("[data]\nbatch_size = 8\nseq_len = \n", "conf/run.toml"),
    /^conf\/run\.toml:3: TOML syntax error: invalid value \(column \d+\)$/,
  );
  assert.match(tomlError("[train]\nepochs = 1\nepochs = 2\n"), /^llm-sim\.toml:3: TOML syntax/);
  assert.match(tomlError("[data]\n[train]\n[data]\n"), /^llm-sim\.toml:3: TOML syntax/);
});

Deno.test("an unknown key names its line and the closest key", () => {
  const text = [
    "# header",
    "",
    "[model]",
    'preset = "gpt2"',
    "",
    "[data]",
    "# batchsize = 1 (a comment is not a key)",
    'dataset = "wikitext-2"',
    "seq_len = 512",
    "",
    "",
    "batchsize = 4",
  ].join("\n");
  assert.equal(
    tomlError(text),
    "llm-sim.toml:12: unknown key 'batchsize' in [data] (did you mean 'batch_size'?)",
  );
  assert.equal(
    tomlError("[data]\nfoo = 1\n"),
    "llm-sim.toml:2: unknown key 'foo' in [data] ([data] has dataset, seq_len, batch_size, grad_accum, workers)",
  );
  assert.equal(
    tomlError("[data]\nseq_len = 8\nepochs = 3\n"),
    "llm-sim.toml:3: unknown key 'epochs' in [data] (it belongs in [train])",
  );
  assert.equal(
    tomlError("# top\nepochs = 3\n[train]\n"),
    "llm-sim.toml:2: key 'epochs' belongs in [train]; keys go under [model], [data], [train], [device]",
  );
  assert.equal(
    tomlError("[model]\n\n[trian]\nepochs = 3\n"),
    "llm-sim.toml:3: unknown section [trian] (did you mean [train]?)",
  );
  assert.equal(
    tomlError("[data]\n  lr.peak = 1\n"),
    "llm-sim.toml:2: dotted keys like 'lr.peak' are not supported; write a [section] header and plain keys",
  );
  assert.equal(
    tomlError('data = "x"\n'),
    "llm-sim.toml:1: 'data' must be a [data] section, not a value",
  );
});

Deno.test("a wrong type or out-of-range value names its line, key and value", () => {
  const text = '[model]\npreset = "gpt2"\n\n[train]\nlr = 1e-3\n# epochs\nepochs = "three"\n';
  assert.equal(
    tomlError(text),
    'llm-sim.toml:7: [train] epochs must be an integer from 1 to 10000, got "three"',
  );
  const cases: [string, string][] = [
    ["[train]\nepochs = 2.5", "[train] epochs must be an integer from 1 to 10000, got 2.5"],
    ["[data]\nworkers = -1", "[data] workers must be an integer from 0 to 256, got -1"],
    ["[train]\nlr = 0", "[train] lr must be a number > 0 and ≤ 1, got 0"],
    ["[train]\nmin_lr = '0'", '[train] min_lr must be a number ≥ 0 and ≤ 1, got "0"'],
    ["[train]\nwarmup_steps = [1]", "[train] warmup_steps must be an integer ≥ 0, got an array"],
    [
      "[train]\nschedule = 'cos'",
      '[train] schedule must be one of "cosine", "linear", "wsd", got "cos"',
    ],
    [
      "[train]\nprecision = 'fp64'",
      '[train] precision must be one of "auto", "bf16", "fp16", "fp8", "fp32", got "fp64"',
    ],
    ["[device]\nstrict = 'yes'", '[device] strict must be true or false, got "yes"'],
    ["[device]\ngpus = 0", "[device] gpus must be an integer from 1 to 4096, got 0"],
    ["[device]\ndevice = ''", '[device] device must be a non-empty string, got ""'],
    ["[model]\npreset = { a = 1 }", "[model] preset must be a non-empty string, got a table"],
  ];
  for (const [toml, msg] of cases) assert.equal(tomlError(toml), `llm-sim.toml:2: ${msg}`);
});

Deno.test("line numbers survive multi-line strings and arrays", () => {
  const text = '[device]\ndevice = """\n[train]\nseed = 1\n"""\n[train]\nseed = [\n  1,\n  2,\n]\n';
  assert.equal(
    tomlError(text),
    "llm-sim.toml:7: [train] seed must be an integer from 0 to 4294967295, got an array",
  );
});

Deno.test("unknown model and dataset names are errors with catalog suggestions", () => {
  assert.equal(
    tomlError('[model]\npreset = "gtp2"\n'),
    "llm-sim.toml:2: [model] preset: unknown model 'gtp2'; did you mean gpt2? (llm-sim --list models shows all)",
  );
  assert.match(
    tomlError('\n[data]\ndataset = "wikitext2"\n'),
    /^llm-sim\.toml:3: \[data\] dataset: unknown dataset 'wikitext2'; did you mean wikitext-2\b/,
  );
  assert.match(usageError(() => flags(["--dataset", "tinystory"])), /^--dataset: .*tinystories/);
});

Deno.test("configFromFlags() reads and checks each flag", () => {
  assert.deepEqual(flags([]), {});
  assert.deepEqual(
    flags([
      "--model=gpt2-medium",
      "--dataset",
      "TinyShakespeare",
      "--seq-len",
      "256",
      "--lr",
      "1e-3",
      "--min-lr=0",
      "--precision",
      "bf16",
      "--device",
      "A30",
      "--gpus",
      "2",
      "--strict-device",
    ]),
    {
      model: "gpt2-medium",
      dataset: "tinyshakespeare",
      seqLen: 256,
      lr: 1e-3,
      minLr: 0,
      precision: "bf16",
      device: "A30",
      gpus: 2,
      strictDevice: true,
    },
  );
  assert.equal(
    usageError(() => flags(["--epochs", "three"])),
    "--epochs must be an integer from 1 to 10000, got 'three'",
  );
  assert.equal(
    usageError(() => flags(["--epochs", "1.5"])),
    "--epochs must be an integer from 1 to 10000, got '1.5'",
  );
  assert.equal(
    usageError(() => flags(["--lr", "2"])),
    "--lr must be a number > 0 and ≤ 1, got '2'",
  );
  assert.equal(
    usageError(() => flags(["--schedule", "step"])),
    "--schedule must be one of cosine, linear, wsd, got 'step'",
  );
  assert.match(usageError(() => flags(["--model", "gtp2"])), /^--model: unknown model 'gtp2'/);
  assert.match(usageError(() => flags(["--batchsize", "4"])), /--batch-size/);
});

Deno.test("flags override the file, the file overrides the defaults", () => {
  const file = parseConfigToml(
    "[data]\nbatch_size = 16\nworkers = 2\n[train]\nepochs = 5\nseed = 7\n",
    "llm-sim.toml",
  );
  const c = mergeConfig(file, flags(["--epochs", "1", "--batch-size", "4"]));
  assert.deepEqual(c, {
    ...DEFAULT_TRAIN_CONFIG,
    batchSize: 4,
    workers: 2,
    epochs: 1,
    seed: 7,
  });
  assert.equal(mergeConfig({ epochs: 2 }, { epochs: 9 }, {}).epochs, 9);
  assert.equal(DEFAULT_TRAIN_CONFIG.epochs, 3, "defaults are not mutated");
  assert.equal(mergeConfig().seed, 1337);
});

Deno.test("validateConfig() checks across settings", () => {
  const bad = (c: Partial<TrainConfig>) => usageError(() => validateConfig(mergeConfig(c)));
  assert.match(bad({ lr: 1e-4, minLr: 1e-3 }), /^min_lr 0\.001 is above lr 0\.0001/);
  validateConfig(mergeConfig({ lr: 1e-4, minLr: 1e-4 }));
  assert.match(bad({ seqLen: 2048 }), /^seq_len 2048 is longer than GPT-2's context of 1024/);
  validateConfig(mergeConfig({ model: "llama-3.2-1b", seqLen: 2048 }));
  assert.match(bad({ epochs: 0 }), /^--epochs \(\[train\] epochs\) must be an integer/);
  assert.match(bad({ model: "nope" }), /unknown model 'nope'/);
});

Deno.test("the local datasets are in the catalog, marked local", () => {
  const local = DATASETS.filter((d) => d.local);
  assert.deepEqual(local.map((d) => d.id), [
    "wikitext-2",
    "wikitext-103",
    "tinyshakespeare",
    "tinystories",
  ]);
  for (const d of local) {
    assert.equal(d.kind, "pretrain");
    assert.ok(d.tokens > 1e5 && d.tokens < 1e10, d.id);
    assert.ok(d.source.length > 40, d.id);
  }
  const wt2 = local[0];
  assert.ok(wt2 && wt2.tokens > 2.2e6 && wt2.tokens < 2.6e6);
  assert.equal(DATASETS.filter((d) => d.local !== undefined).length, 4);
});

Deno.test("configArgv(): the flags that give a configuration over the defaults, and parse back to it", () => {
  assert.deepEqual(configArgv(mergeConfig({})), []);
  const c = mergeConfig({
    model: "gpt2-medium",
    dataset: "tinyshakespeare",
    epochs: 2,
    lr: 3e-4,
    device: "H100",
    gpus: 8,
    strictDevice: true,
  });
  const argv = configArgv(c);
  assert.deepEqual(argv, [
    "--model",
    "gpt2-medium",
    "--dataset",
    "tinyshakespeare",
    "--epochs",
    "2",
    "--lr",
    "0.0003",
    "--device",
    "H100",
    "--gpus",
    "8",
    "--strict-device",
  ]);
  const back = parseTrainerArgs("train", argv);
  assert.ok(back.cmd === "train");
  assert.deepEqual(mergeConfig(back.settings), c);
});
