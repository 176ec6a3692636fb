/** ASCII box tables (`+---+` borders), fitted to a width by cutting the value column. */

export interface TableRow {
  key: string;
  value: string;
}

/** A two-column key/value table with a title row, at most `width` columns wide. */
export function keyValueTable(title: string, rows: readonly TableRow[], width: number): string[] {
  let kw = Math.max(...rows.map((r) => r.key.length));
  let vw = Math.max(title.length - kw - 3, ...rows.map((r) => r.value.length));
  // "| " k " | " v " |" takes kw + vw + 7 columns: cut values first, then keys
  if (kw + vw + 7 > width) vw = Math.max(4, width - kw - 7);
  if (kw + vw + 7 > width) kw = Math.max(1, width - vw - 7);
  const rule = `+${"-".repeat(kw + 2)}+${"-".repeat(vw + 2)}+`;
  const fit = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + "…" : s.padEnd(n));
  const inner = kw + vw + 3;
  return [
    `+${"-".repeat(inner + 2)}+`,
    `| ${fit(title, inner)} |`,
    rule,
    ...rows.map((r) => `| ${fit(r.key, kw)} | ${fit(r.value, vw)} |`),
    rule,
  ];
}
