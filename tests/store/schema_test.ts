import assert from "node:assert/strict";
import {
  canTransition,
  checkpointDirName,
  newRunId,
  parseCheckpointDirName,
  parseManifest,
  parseMeta,
  parseState,
  runIdTail,
  runIdTime,
  StoreError,
} from "../../lib/store/schema.ts";
import { type Lifecycle, LIFECYCLES } from "../../lib/trainer/types.ts";
import { manifest, meta, state } from "./_fixtures.ts";

const FILE = "runs/abc/state.json";

/** The StoreError message `parse` gives for `value`, checked to name FILE and be one line. */
function rejects(parse: (v: unknown, file: string) => unknown, value: unknown): string {
  try {
    parse(value, FILE);
  } catch (e) {
    assert.ok(e instanceof StoreError, `not a StoreError: ${e}`);
    assert.ok(e.message.startsWith(`${FILE}: `), e.message);
    assert.ok(!e.message.includes("\n"), e.message);
    return e.message.slice(FILE.length + 2);
  }
  assert.fail(`accepted ${JSON.stringify(value)}`);
}

/** `value` with `path` ("a.b[0].c") set to `to` (undefined: deleted). */
function withField(value: object, path: string, to: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  let o = copy;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (to === undefined) delete o[last];
  else o[last] = to;
  return copy;
}

Deno.test("parse*: valid files come back unchanged", () => {
  for (
    const [parse, value] of [[parseMeta, meta("r")], [parseState, state("r")], [
      parseManifest,
      manifest(100),
    ]] as const
  ) {
    assert.deepEqual(parse(structuredClone(value) as never, FILE), value);
  }
  // Nullable and optional fields take their other form too.
  parseState(
    state("r", { gpu: null, loss: 2.5, pid: 123, startedAt: "2026-11-26T09:05:08Z" }),
    FILE,
  );
  const m = manifest(5);
  m.lr.extendedAt = { step: 5, lr: 1e-4, before: { ...m.lr, totalSteps: 900 } };
  parseManifest(m, FILE);
  m.lr.extendedAt.before.decay = "step" as "wsd";
  assert.match(rejects(parseManifest, m), /^"lr\.extendedAt\.before\.decay" must be one of/);
});

Deno.test("parse*: wrong types are rejected naming the field", () => {
  const cases: [(v: unknown, f: string) => unknown, object, string, unknown, string][] = [
    [parseState, state("r"), "step", "7", `"step" must be a number`],
    [parseState, state("r"), "step", Infinity, `"step" must be a number`],
    [parseState, state("r"), "pid", undefined, `"pid" is missing`],
    [parseState, state("r"), "loss", "2.1", `"loss" must be a number or null`],
    [parseState, state("r"), "reason", 3, `"reason" must be a string or null`],
    [
      parseState,
      state("r"),
      "status",
      "paused",
      `"status" must be one of ${LIFECYCLES.join(", ")}`,
    ],
    [parseState, state("r"), "schema", 2, `"schema" must be 1`],
    [parseState, state("r"), "queuedAt", "yesterday", `"queuedAt" must be an ISO 8601 date`],
    [parseState, state("r"), "gpu", 5, `"gpu" must be an object or null`],
    [parseState, state("r"), "gpu.tempC", "hot", `"gpu.tempC" must be a number`],
    [parseMeta, meta("r"), "config.seqLen", "1024", `"config.seqLen" must be a number`],
    [parseMeta, meta("r"), "config.precision", "fp4", `"config.precision" must be one of`],
    [parseMeta, meta("r"), "config.schedule", "step", `"config.schedule" must be one of`],
    [parseMeta, meta("r"), "config.strictDevice", "yes", `"config.strictDevice" must be true or`],
    [parseMeta, meta("r"), "device.kind", "tpu", `"device.kind" must be one of cuda, cpu`],
    [parseMeta, meta("r"), "device.warnings", [1], `"device.warnings[0]" must be a string`],
    [parseMeta, meta("r"), "hidden", [], `"hidden" must be an object`],
    [parseMeta, meta("r"), "argv", "train", `"argv" must be an array`],
    [parseManifest, manifest(1), "sim.step", undefined, `"sim.step" is missing`],
    [parseManifest, manifest(1), "lr.extendedAt", { step: 1 }, `"lr.extendedAt.lr" is missing`],
    [parseManifest, manifest(1), "lr.extendedAt", { step: 1, lr: 1 }, `"lr.extendedAt.before" is`],
    [parseManifest, manifest(1), "files[0].bytes", "1", `"files[0].bytes" must be a number`],
  ];
  for (const [parse, valid, path, to, want] of cases) {
    const got = rejects(parse, withField(valid, path, to));
    assert.ok(got.startsWith(want), `${path} = ${JSON.stringify(to)}: ${got}`);
  }
  for (const parse of [parseMeta, parseState, parseManifest]) {
    for (const v of [null, [], "x", 1]) assert.equal(rejects(parse, v), "not a JSON object");
  }
});

Deno.test("parse*: every field of every file is required and type-checked", () => {
  // Deleting a field, or giving it a value no rule accepts (an array, or an object for the
  // fields that are arrays), must be reported under that field's name.
  const arrays = new Set(["argv", "device.warnings", "files"]);
  const fields = (o: object, at = ""): string[] =>
    Object.entries(o).flatMap(([k, v]) => {
      const path = at ? `${at}.${k}` : k;
      const nested = v !== null && typeof v === "object" && !Array.isArray(v) &&
        !["hidden", "sim"].includes(path);
      return nested ? [path, ...fields(v, path)] : [path];
    });
  const files: [(v: unknown, f: string) => unknown, object][] = [
    [parseMeta, meta("r")],
    [parseState, state("r")],
    [parseManifest, manifest(1)],
  ];
  let checked = 0;
  for (const [parse, valid] of files) {
    for (const path of fields(valid)) {
      assert.match(
        rejects(parse, withField(valid, path, undefined)),
        new RegExp(`^"${path}" is missing`),
      );
      const bad = arrays.has(path) ? {} : [];
      assert.match(rejects(parse, withField(valid, path, bad)), new RegExp(`^"${path}" must be`));
      checked++;
    }
  }
  assert.ok(checked > 70, `only ${checked} fields`);
});

Deno.test("canTransition: the lifecycle table", () => {
  const allowed: Record<Lifecycle, Lifecycle[]> = {
    queued: ["running", "failed", "stopped"],
    running: ["running", "completed", "failed", "stopped"],
    completed: ["queued", "running"],
    failed: ["queued", "running"],
    stopped: ["queued", "running"],
  };
  for (const from of LIFECYCLES) {
    for (const to of LIFECYCLES) {
      assert.equal(canTransition(from, to), allowed[from].includes(to), `${from} → ${to}`);
    }
  }
});

Deno.test("newRunId: UTC timestamp, clean slug, low 16 bits in hex", () => {
  const t = Date.UTC(2026, 10, 26, 9, 5, 7, 999);
  assert.equal(
    newRunId(t, "GPT-2 Medium (355M)", 0xdeadbeef),
    "20261126-090507-gpt-2-medium-355m-beef",
  );
  assert.equal(newRunId(t, "__a__--b..", 0x10005), "20261126-090507-a-b-0005");
  assert.equal(newRunId(t, "!!!", 0), "20261126-090507-run-0000");
  assert.equal(
    newRunId(t, "Llama 3.1 70B Instruct Extended Context", 0xffff),
    "20261126-090507-llama-3.1-70b-instruct-e-ffff",
  );
  // Cut at 24 characters, then a dash left at the end is trimmed.
  assert.equal(
    newRunId(t, "abcdefghijklmnopqrstuvw-xyz", 1),
    "20261126-090507-abcdefghijklmnopqrstuvw-0001",
  );
  assert.equal(newRunId(Date.UTC(2027, 0, 2, 23, 59, 59), "x", 0xabc), "20270102-235959-x-0abc");
  for (const slug of ["Qwen2.5-0.5B", "  ", "ünïcødé", "a".repeat(100)]) {
    const id = newRunId(t, slug, Math.floor(Math.random() * 2 ** 32));
    assert.match(id, /^\d{8}-\d{6}-[a-z0-9][a-z0-9.-]{0,23}-[0-9a-f]{4}$/, id);
    assert.equal(runIdTime(id), Date.UTC(2026, 10, 26, 9, 5, 7));
  }
  assert.equal(runIdTail("20261126-090507-gpt2-beef"), "gpt2-beef");
  assert.equal(runIdTail("my-run"), "my-run");
  assert.equal(runIdTime("my-run"), null);
});

Deno.test("checkpoint directory names round-trip; anything else is null", () => {
  for (const step of [0, 1, 1200, 10 ** 12]) {
    assert.equal(parseCheckpointDirName(checkpointDirName(step)), step);
  }
  assert.equal(checkpointDirName(1200), "step-1200");
  for (
    const name of [
      "step-",
      "step-01",
      "step--1",
      "step-1.5",
      "step-1x",
      "foo",
      "Step-1",
      "step-1e3",
    ]
  ) {
    assert.equal(parseCheckpointDirName(name), null, name);
  }
});
