/**
 * The versioned state of one replica: the `Persistent`/`Volatile` fields of a @Replicated object,
 * found on the instance and registered by property name in one PersistentRegistry for its
 * (subgroup, shard). The RPC engine stamps a version of every field after each ordered call
 * (`version`) and asks for durability when the core emits `persist` (`requestPersist`); this
 * class runs the group commit and reports what became durable.
 *
 * Where the versions live:
 * - persistent shard, `persistence.enabled` on: Persistent fields on disk, in
 *   `<persistence.dir>/sg<subgroup>-sh<shard>-<field>.log`; Volatile fields in memory.
 * - otherwise (persistence off, or an ordered shard, where the core never asks for durability):
 *   every field in memory, Persistent ones behaving as Volatile. Nothing is written, and
 *   nothing claims a durability it does not have.
 */
import type { KeyObject } from 'node:crypto';
import type { Hlc } from '../core/hlc.js';
import { INVALID_VERSION, type Version } from '../core/version.js';
import type { Logger } from '../util/logger.js';
import { PersistentRegistry } from '../persistent/registry.js';
import type { RetentionPolicy } from '../persistent/record-log.js';
import { Persistent, VersionedField } from '../persistent/versioned.js';

export interface PersistenceSettings {
  /** Keep Persistent fields on disk (config `persistence.enabled`). */
  readonly enabled: boolean;
  /** Directory of the logs (config `persistence.dir`). */
  readonly dir: string;
  /** fdatasync each group commit (config `persistence.fsync`). */
  readonly fsync: boolean;
  /** Default retention of every field without its own (config `persistence.retain*`; unset keeps all). */
  readonly retainVersions?: number;
  readonly retainSeconds?: number;
  readonly retainBytes?: number;
  /** Signed logs (config `persistence.signing`): this node's Ed25519 key signs every version its logs persist. */
  readonly signing?: { readonly privateKey: KeyObject };
}

/** Non-durable replicas apply retention once per this many versions (durable ones after each group commit). */
const RETENTION_EVERY_VERSIONS = 256;

function retentionOf(settings: PersistenceSettings): RetentionPolicy | undefined {
  const policy: RetentionPolicy = {};
  if (settings.retainVersions !== undefined) policy.versions = settings.retainVersions;
  if (settings.retainSeconds !== undefined) policy.seconds = settings.retainSeconds;
  if (settings.retainBytes !== undefined) policy.bytes = settings.retainBytes;
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/** The own enumerable properties of `instance` that are versioned fields, by property name. */
export function versionedFieldsOf(instance: object): [string, VersionedField<unknown>][] {
  const found: [string, VersionedField<unknown>][] = [];
  for (const [name, value] of Object.entries(instance)) if (value instanceof VersionedField) found.push([name, value as VersionedField<unknown>]);
  return found;
}

export interface ReplicaVersionsOptions {
  readonly subgroupId: number;
  readonly shard: number;
  /** The class's wire name, for messages. */
  readonly className: string;
  /** Persistent fields go to disk (persistent shard with persistence enabled). */
  readonly durable: boolean;
  readonly settings: PersistenceSettings;
  readonly log: Logger;
  /** The log is durable through `version` (called in version order, never after a failure). */
  onPersisted(version: Version): void;
  /** The disk failed: nothing will be reported persisted any more. */
  onFailed(error: Error): void;
  /**
   * The shard's global persistence frontier (persistent shards): retention trims only below it.
   * Without it (ordered shards, whose versions live in memory only) every version made counts.
   */
  globalPersisted?(): Version;
}

export class ReplicaVersions {
  readonly registry: PersistentRegistry;
  readonly durable: boolean;
  /** The newest version the core asked to be made durable. */
  private requested: Version = INVALID_VERSION;
  private inFlight: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private versionsSinceRetention = 0;
  /** A deferred compaction of the field logs in progress. */
  private compacting: Promise<void> | undefined;

  private constructor(
    private readonly options: ReplicaVersionsOptions,
    fields: readonly [string, VersionedField<unknown>][],
  ) {
    this.durable = options.durable;
    this.registry = new PersistentRegistry({
      dir: options.settings.dir,
      subgroup: options.subgroupId,
      shard: options.shard,
      // Compaction runs after group commits, in steps off the event loop (see retain()).
      log: { fsync: options.settings.fsync, compaction: 'deferred', signingKey: options.settings.signing?.privateKey },
      retention: retentionOf(options.settings),
    });
    for (const [name, field] of fields) {
      if (field instanceof Persistent && field.attached) {
        // Persistent.open in a constructor, or a field shared with another object: one log would
        // be written from two places.
        throw new Error(`${options.className}.${name}: this Persistent field is already attached to storage; a replicated object's fields must be left unattached (the runtime attaches them)`);
      }
      if (field instanceof Persistent && !this.durable) field.attachInMemory(`${options.className} subgroup ${options.subgroupId} shard ${options.shard} field ${name}`);
      this.registry.add(name, field);
    }
  }

  /**
   * The versioned state of `instance`, or undefined when it has no versioned fields. Throws when
   * `startsEmpty` (no state transfer follows) but the logs on disk hold versions of an earlier
   * run: this replica would start from a state the other replicas do not have.
   */
  static create(instance: object, options: ReplicaVersionsOptions, startsEmpty: boolean): ReplicaVersions | undefined {
    const fields = versionedFieldsOf(instance);
    if (fields.length === 0) return undefined;
    const versions = new ReplicaVersions(options, fields);
    const held = versions.registry.latestVersion;
    if (startsEmpty && versions.durable && held !== INVALID_VERSION) {
      versions.registry.close();
      throw new Error(
        `${options.className} subgroup ${options.subgroupId} shard ${options.shard}: the logs in ${options.settings.dir} hold versions up to ${held} from an earlier run, ` +
          `but this replica starts empty (the group formed anew); restarting a group from its logs is not supported yet: remove the sg${options.subgroupId}-sh${options.shard}-*.log files or use another persistence.dir`,
      );
    }
    return versions;
  }

  /** Records every field's current value as version `v` at time `hlc` (after an ordered call ran). */
  version(v: Version, hlc: Hlc): void {
    this.registry.version(v, hlc);
    if (!this.durable && ++this.versionsSinceRetention >= RETENTION_EVERY_VERSIONS) this.retain();
  }

  /**
   * Applies the fields' retention below the global persistence frontier, then starts the
   * compaction of the files the trims left dead bytes in (one at a time, in steps between
   * deliveries). A compaction failure is logged; the log stays as it was.
   */
  private retain(): void {
    this.versionsSinceRetention = 0;
    const stable = this.options.globalPersisted?.() ?? this.registry.latestVersion;
    this.registry.applyRetention(stable);
    if (!this.durable || this.compacting !== undefined || this.closed) return;
    this.compacting = this.registry.compactAsync().then(
      () => {
        this.compacting = undefined;
      },
      (err: unknown) => {
        this.compacting = undefined;
        this.options.log.warn({ subgroup: this.options.subgroupId, shard: this.options.shard }, 'compacting the %s logs failed (they keep their trimmed bytes): %s', this.options.className, (err as Error).message);
      },
    );
  }

  /**
   * The core asks for everything through `version` to be made durable: group commit, one sync
   * in flight at a time; requests arriving meanwhile are covered by the next one.
   */
  requestPersist(version: Version): void {
    if (this.failure !== undefined || this.closed) return;
    if (version > this.requested) this.requested = version;
    if (this.inFlight === undefined) this.startPersist();
  }

  private startPersist(): void {
    // Every version up to `covers` was stamped before this request (the core emits persist after
    // the batch's deliveries), so the sync started now makes all of them durable.
    const covers = this.requested;
    this.inFlight = this.registry.persistAsync().then(
      () => {
        this.inFlight = undefined;
        if (this.closed || this.failure !== undefined) return;
        this.options.onPersisted(covers);
        if (this.requested > covers) this.startPersist();
        this.retain();
      },
      (err: unknown) => {
        this.inFlight = undefined;
        this.fail(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    const code = (error as NodeJS.ErrnoException).code;
    this.options.log.error(
      { subgroup: this.options.subgroupId, shard: this.options.shard, code, dir: this.options.settings.dir },
      'cannot make the %s log durable: %s. This node no longer reports versions persisted (a group member then leaves the group, so the others can go on)',
      this.options.className,
      error.message,
    );
    this.options.onFailed(error);
  }

  /** Whether the disk failed. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Every field's whole retained log, for a joiner (state transfer at a view boundary). */
  serialize(): Uint8Array {
    return this.registry.serializeTail(INVALID_VERSION);
  }

  /**
   * A joiner takes the old shard leader's logs: whatever this node's files held before (an
   * earlier run) is dropped, the transferred versions become its history, and the current
   * values the newest of them. Made durable before the replica starts.
   */
  restore(bytes: Uint8Array): void {
    this.registry.truncate(INVALID_VERSION);
    this.registry.applyTail(bytes);
    this.registry.persist();
  }

  /** Waits for a sync in flight, then persists and closes every field's log. Never rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.inFlight !== undefined) await this.inFlight;
    if (this.compacting !== undefined) await this.compacting;
    try {
      this.registry.close();
    } catch (err) {
      this.options.log.error({ subgroup: this.options.subgroupId, shard: this.options.shard }, 'closing the %s logs failed: %s', this.options.className, (err as Error).message);
    }
  }
}
