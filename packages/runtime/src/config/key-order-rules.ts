/**
 * Rules between two keys of one section: `low` must stay below `high` (or at most equal to it
 * when not `strict`). A broken rule is reported on the key the user gave: `blame` when given,
 * else the other one (whose default then clashes with what was given).
 */
import type { ConfigChecker } from './config-checker.js';

export interface KeyOrderRule {
  readonly low: string;
  readonly high: string;
  /** `low < high` (else `low ≤ high`). */
  readonly strict: boolean;
  /** Which key to name when the user gave it. */
  readonly blame: 'low' | 'high';
}

/** Within a multicast profile (the multicast section and each named profile). */
export const PROFILE_RULES: readonly KeyOrderRule[] = [{ low: 'maxSmcPayloadBytes', high: 'maxPayloadBytes', strict: false, blame: 'low' }];

/** Within the failure section. */
export const FAILURE_RULES: readonly KeyOrderRule[] = [{ low: 'heartbeatMs', high: 'failureTimeoutMs', strict: true, blame: 'high' }];

/**
 * Checks `rules` on `values` (a section with its defaults) at `at` ("multicast",
 * "profiles.LARGE"); `given` says which keys the user gave.
 */
export function checkKeyOrder(check: ConfigChecker, at: string, rules: readonly KeyOrderRule[], values: Readonly<Record<string, unknown>>, given: Readonly<Record<string, unknown>>): void {
  for (const rule of rules) {
    const low = values[rule.low] as number;
    const high = values[rule.high] as number;
    if (rule.strict ? low < high : low <= high) continue;
    const other = rule.blame === 'low' ? 'high' : 'low';
    const blamed = given[rule[rule.blame]] !== undefined ? rule.blame : other;
    if (blamed === 'low') check.add(`${at}.${rule.low}`, `must be ${rule.strict ? 'less than' : '≤'} ${rule.high} (${high}), got ${low}`);
    else check.add(`${at}.${rule.high}`, `must be ${rule.strict ? 'greater than' : '≥'} ${rule.low} (${low}), got ${high}`);
  }
}
