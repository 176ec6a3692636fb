/** ASCII box tables (`+---+` borders), fitted to a width by cutting the value column. */

export interface TableRow {
  key: string;
  value: string;
}

/** A two-column key/value table with a title row, at most `width` columns wide. */
export function keyValueTable(title: string, rows: readonly TableRow[], width: number): string[] {
  const kw = Math.max(...rows.map((r) => r.key.length));
  let vw = Math.max(title.length - kw - 3, ...rows.map((r) => r.value.length));
  const total = () => kw + vw + 7; // "| " k " | " v " |"
  if (total() > width) vw = Math.max(4, width - kw - 7);
  const rule = `+${"-".repeat(kw + 2)}+${"-".repeat(vw + 2)}+`;
  const fit = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + "…" : s.padEnd(n));
  const inner = kw + vw + 3;
  return [
    `+${"-".repeat(inner + 2)}+`,
    `| ${fit(title, inner)} |`,
    rule,
    ...rows.map((r) => `| ${r.key.padEnd(kw)} | ${fit(r.value, vw)} |`),
    rule,
  ];
}
