/** Closest-name suggestions for mistyped model, GPU and run names. */

/** Levenshtein edit distance. */
export function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[n] ?? 0;
}

/**
 * Up to `max` canonical names whose spellings come closest to `input`. `entries` maps each
 * spelling (id, alias, display name) to the canonical name to suggest.
 */
export function closest(
  input: string,
  entries: readonly { spelling: string; name: string }[],
  max = 3,
): string[] {
  const q = input.toLowerCase();
  const scored = new Map<string, number>();
  for (const e of entries) {
    const s = e.spelling.toLowerCase();
    let d = editDistance(q, s);
    if (s.includes(q) || q.includes(s)) d = Math.min(d, Math.abs(s.length - q.length) * 0.25);
    const prev = scored.get(e.name);
    if (prev === undefined || d < prev) scored.set(e.name, d);
  }
  const limit = Math.max(2, Math.ceil(q.length / 2));
  return [...scored.entries()]
    .filter(([, d]) => d <= limit)
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, max)
    .map(([name]) => name);
}
