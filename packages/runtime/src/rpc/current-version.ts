/**
 * `currentVersion()`: inside an `@Ordered()` handler, the version and HLC of the delivery being
 * applied, identical at every replica (reference §2.9, §2.15 item 4). Handlers run synchronously
 * inside the delivery upcall, so one slot set around the call is enough; an async handler sees it
 * only before its first `await`.
 */
import type { Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';

export interface AppliedVersion {
  readonly version: Version;
  readonly hlc: Hlc;
}

let applying: AppliedVersion | undefined;

/** The version and HLC being applied; throws outside (the synchronous part of) an ordered handler. */
export function currentVersion(): AppliedVersion {
  if (applying === undefined) {
    throw new Error('currentVersion() is only available inside an @Ordered() handler while it runs (before its first await)');
  }
  return applying;
}

/** Runs `fn` with `currentVersion()` answering `v`. */
export function withAppliedVersion<R>(v: AppliedVersion, fn: () => R): R {
  const outer = applying;
  applying = v;
  try {
    return fn();
  } finally {
    applying = outer;
  }
}
