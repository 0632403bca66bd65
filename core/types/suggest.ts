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

/**
 * The optimal-string-alignment distance of lower-cased `a` and `b` when it is at most `limit`,
 * else `limit + 1` (three reused rows, early exit when a row is all above the limit): cheap
 * enough to scan every name of a dictionary.
 */
function boundedDistance(a: string, b: string, limit: number, rows: Int32Array[]): number {
  const n = b.length;
  let [pp, p, c] = rows as [Int32Array, Int32Array, Int32Array];
  for (let j = 0; j <= n; j++) p[j] = j;
  for (let i = 1; i <= a.length; i++) {
    c[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= n; j++) {
      const bj = b.charCodeAt(j - 1);
      let v = Math.min(p[j] + 1, c[j - 1] + 1, p[j - 1] + (ai === bj ? 0 : 1));
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) v = Math.min(v, pp[j - 2] + 1);
      c[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    [pp, p, c] = [p, c, pp];
  }
  return Math.min(p[n], limit + 1);
}

/** The closest candidate within a small edit distance (≤ 1 for short names, ≤ 2 otherwise), case-insensitive. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  if (name === '') return undefined;
  const limit = name.length <= 3 ? 1 : 2;
  const lower = name.toLowerCase();
  const size = lower.length + limit + 2;
  const rows = [new Int32Array(size), new Int32Array(size), new Int32Array(size)];
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    if (Math.abs(c.length - lower.length) > limit) continue;
    const dist = boundedDistance(lower, c.toLowerCase(), Math.min(limit, bestD - 1), rows);
    if (dist < bestD) {
      best = c;
      bestD = dist;
      if (dist === 0) break;
    }
  }
  return best;
}

/** `; did you mean "X"?` for the closest candidate, or '' when none is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const hint = suggest(name, candidates);
  return hint ? `; did you mean "${hint}"?` : '';
}
