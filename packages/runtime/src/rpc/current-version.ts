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

// Two plain slots rather than one object: most handlers never ask, so a delivery costs no
// allocation; the object is built when someone does ask.
let applyingVersion: Version | undefined;
let applyingHlc: Hlc | undefined;

/** The version and HLC being applied; throws outside (the synchronous part of) an ordered handler. */
export function currentVersion(): AppliedVersion {
  if (applyingVersion === undefined) {
    throw new Error('currentVersion() is only available inside an @Ordered() handler while it runs (before its first await)');
  }
  return { version: applyingVersion, hlc: applyingHlc! };
}

/** What `enterApplied` replaced, for `exitApplied` to put back. */
export interface AppliedSlot {
  readonly version: Version | undefined;
  readonly hlc: Hlc | undefined;
}

const NOTHING_APPLIED: AppliedSlot = { version: undefined, hlc: undefined };

/**
 * Makes `currentVersion()` answer `version`/`hlc` until `exitApplied`; call the two in a
 * try/finally. The hot path of ordered delivery uses this pair instead of `withAppliedVersion`
 * to avoid a closure per call.
 */
export function enterApplied(version: Version, hlc: Hlc): AppliedSlot {
  const outer = applyingVersion === undefined ? NOTHING_APPLIED : { version: applyingVersion, hlc: applyingHlc };
  applyingVersion = version;
  applyingHlc = hlc;
  return outer;
}

export function exitApplied(outer: AppliedSlot): void {
  applyingVersion = outer.version;
  applyingHlc = outer.hlc;
}

/** Runs `fn` with `currentVersion()` answering `v`. */
export function withAppliedVersion<R>(v: AppliedVersion, fn: () => R): R {
  const outer = enterApplied(v.version, v.hlc);
  try {
    return fn();
  } finally {
    exitApplied(outer);
  }
}
