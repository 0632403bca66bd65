/**
 * Did-you-mean suggestions for misspelt names (config items, modules, keywords, attributes,
 * enumeration values, xlat functions): the closest candidate within a small edit distance.
 * A leaf: every core folder may use it.
 */

/**
 * Damerau-Levenshtein (optimal string alignment) distance, case-insensitive.
 */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate within a small edit distance (≤ 1 for short names, ≤ 2 otherwise). */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  const limit = name.length <= 3 ? 1 : 2;
  if (name === '') return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > limit) continue;
    const dist = editDistance(name, c);
    if (dist <= limit && dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return best;
}

/** `; did you mean "X"?` for the closest candidate, or '' when none is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const hint = suggest(name, candidates);
  return hint ? `; did you mean "${hint}"?` : '';
}
