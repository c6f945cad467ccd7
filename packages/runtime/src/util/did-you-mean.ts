/**
 * "Did you mean" suggestions for misspelt keys: the closest known key by edit distance, offered only
 * when it is close enough to be a plausible typo (so `windowsize` suggests `windowSize`, while
 * `colour` under `multicast` suggests nothing).
 */

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of neighbours (optimal
 * string alignment), case-insensitive: `prot` is one edit from `port`, `WindowSize` none from
 * `windowSize`.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/** Keys compared without separators and case, so `window_size` and `WINDOW-SIZE` find `windowSize`. */
function squash(key: string): string {
  return key.replace(/[-_\s]/g, '').toLowerCase();
}

/** The known key closest to `key`, or undefined when none is a plausible typo of it. */
export function closestKey(key: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = squash(candidate) === squash(key) ? 0 : editDistance(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A third of the key's length (at least 1, at most 3 edits) separates typos from other words.
  const allowed = Math.min(3, Math.max(1, Math.floor(key.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}

/** ` (did you mean "x"?)` or the empty string, ready to append to an "unknown key" message. */
export function didYouMean(key: string, known: Iterable<string>): string {
  const suggestion = closestKey(key, known);
  return suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
}
