/**
 * "Did you mean" suggestions for misspelt keys: the closest known key by edit distance, offered only
 * when it is close enough to be a plausible typo (so `windowsize` suggests `windowSize`, while
 * `colour` under `multicast` suggests nothing).
 */

/** Levenshtein distance, case-insensitive (a wrong case is the commonest typo in camelCase keys). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const substitution = previous[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[t.length];
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
