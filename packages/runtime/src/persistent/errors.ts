import type { Hlc } from '../core/hlc.js';
import { formatHlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';

/** Base class of every error the versioned-state layer throws on purpose. */
export class PersistentError extends Error {
  override readonly name: string = 'PersistentError';
}

/** `version(v)` was given a version (or HLC) that does not move strictly forward. */
export class VersionOrderError extends PersistentError {
  override readonly name = 'VersionOrderError';
}

/** A read named a version or index the log does not hold (trimmed, truncated, or never written). */
export class VersionNotFoundError extends PersistentError {
  override readonly name: string = 'VersionNotFoundError';
  constructor(
    message: string,
    readonly version?: Version,
  ) {
    super(message);
  }
}

/** A read asked for a version that retention (or a trim) removed: it is older than the retained range. */
export class VersionTrimmedError extends VersionNotFoundError {
  override readonly name = 'VersionTrimmedError';
  constructor(
    message: string,
    version: Version,
    readonly trimmedThrough: Version,
  ) {
    super(message, version);
  }
}

/** A temporal read asked for a time at or beyond the stability frontier: the answer could still change. */
export class NotStableError extends PersistentError {
  override readonly name = 'NotStableError';
  constructor(
    readonly time: Hlc,
    readonly frontier: Hlc,
  ) {
    super(`time ${formatHlc(time)} is not stable yet: the stability frontier is ${formatHlc(frontier)} (temporal reads must ask for times strictly before it)`);
  }
}

/** A read as of a version this replica has not delivered yet: the state there could still change. */
export class VersionNotStableError extends PersistentError {
  override readonly name = 'VersionNotStableError';
  constructor(
    message: string,
    readonly version: Version,
    /** The newest version delivered here. */
    readonly latest: Version,
  ) {
    super(message);
  }
}

/** A temporal read found no version at or before the requested time. */
export class NoVersionAtTimeError extends PersistentError {
  override readonly name: string = 'NoVersionAtTimeError';
  constructor(readonly time: Hlc) {
    super(`no version at or before time ${formatHlc(time)} is held in the log`);
  }
}

/** A temporal read asked for a time whose version retention (or a trim) removed. */
export class TimeTrimmedError extends NoVersionAtTimeError {
  override readonly name = 'TimeTrimmedError';
  constructor(
    time: Hlc,
    readonly trimmedTime: Hlc,
  ) {
    super(time);
    this.message = `no retained version at or before time ${formatHlc(time)}: versions through ${formatHlc(trimmedTime)} were trimmed (see the field's retention policy)`;
  }
}

/** Bytes on disk (or in a state-transfer tail) failed a checksum or structural check. */
export class CorruptLogError extends PersistentError {
  override readonly name = 'CorruptLogError';
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
  ) {
    super(`${file}: ${message} (at byte offset ${offset})`);
  }
}
