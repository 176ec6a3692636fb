import assert from "node:assert/strict";
import fc from "fast-check";
import { keyValueTable } from "../../lib/render/table.ts";

const ROWS = [
  { key: "model", value: "llama-3.1-8b" },
  { key: "parameters", value: "8,030,261,248" },
  { key: "dataset", value: "HuggingFaceFW/fineweb-edu (sample-10BT)" },
];

/** Column positions of "|" and "+" in a line. */
function joints(line: string): number[] {
  return [...line].flatMap((c, i) => (c === "|" || c === "+" ? [i] : []));
}

Deno.test("keyValueTable() draws a boxed table at its natural width", () => {
  assert.deepEqual(keyValueTable("Run configuration", ROWS, 80), [
    "+------------------------------------------------------+",
    "| Run configuration                                    |",
    "+------------+-----------------------------------------+",
    "| model      | llama-3.1-8b                            |",
    "| parameters | 8,030,261,248                           |",
    "| dataset    | HuggingFaceFW/fineweb-edu (sample-10BT) |",
    "+------------+-----------------------------------------+",
  ]);
});

Deno.test("keyValueTable() cuts values with … to fit the width", () => {
  assert.deepEqual(keyValueTable("Run configuration", ROWS, 40), [
    "+--------------------------------------+",
    "| Run configuration                    |",
    "+------------+-------------------------+",
    "| model      | llama-3.1-8b            |",
    "| parameters | 8,030,261,248           |",
    "| dataset    | HuggingFaceFW/fineweb-… |",
    "+------------+-------------------------+",
  ]);
});

Deno.test("keyValueTable() widens the value column for a long title and cuts it to fit", () => {
  const title = "A very long title that is longer than everything";
  const wide = keyValueTable(title, [{ key: "k", value: "v" }], 80);
  assert.equal(wide[1], `| ${title} |`);
  const narrow = keyValueTable(title, [{ key: "k", value: "v" }], 30);
  assert.equal(narrow[1], "| A very long title that is… |");
  assert.ok(narrow.every((l) => l.length === 30));
});

Deno.test("keyValueTable() lines up its borders and fits the width", () => {
  const text = fc.string({ unit: "grapheme-ascii", maxLength: 60 });
  const rows = fc.array(
    fc.record({
      key: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 30 }),
      value: text,
    }),
    { minLength: 1, maxLength: 8 },
  );
  fc.assert(
    fc.property(text, rows, fc.integer({ min: 20, max: 400 }), (title, rs, width) => {
      const lines = keyValueTable(title, rs, width);
      const n = lines[0]!.length;
      assert.ok(n <= width, `${n} > ${width}`);
      for (const line of lines) assert.equal(line.length, n, line);
      assert.deepEqual(joints(lines[0]!), [0, n - 1]);
      assert.deepEqual(joints(lines[2]!), joints(lines.at(-1)!));
      const [, mid] = joints(lines[2]!);
      for (const line of lines.slice(3, -1)) {
        assert.equal(line[0], "|");
        assert.equal(line[mid!], "|");
        assert.equal(line[n - 1], "|");
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("keyValueTable() keeps a value that fits and cuts one that does not", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 80 }),
      fc.integer({ min: 20, max: 120 }),
      (value, width) => {
        const row = keyValueTable("t", [{ key: "key", value }], width)[3]!;
        const cell = row.slice("| key | ".length, -" |".length);
        const room = width - "| key |  |".length;
        if (value.length <= room) assert.equal(cell, value);
        else assert.equal(cell, value.slice(0, room - 1) + "…");
      },
    ),
  );
});
