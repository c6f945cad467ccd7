/**
 * The versioned, durable key-value store users write: its map is a `PersistentMap` field,
 * so every ordered call creates a version of it (the same number and HLC at every replica), and in
 * a `persistent` shard each version is logged to disk as the keys it changed (a put costs the
 * same in a map of ten keys or of a million); `globalPersistence()` on a call's results resolves
 * once every replica's log holds it. Past states stay readable: `data.get(version)`.
 */
import { currentVersion, Ordered, P2P, PersistentMap, Replicated, Volatile } from '@derecho-ts/runtime';

@Replicated()
export class DurableKV {
  /** The keys and values, versioned and logged (the log file is named for the field: "data"). */
  readonly data = new PersistentMap<string, Uint8Array>();
  /** How many puts this replica applied, versioned in memory only. */
  readonly puts = new Volatile<number>(() => 0);

  /** Sets `key`; returns the version the write created. */
  @Ordered() put(key: string, value: Uint8Array): bigint {
    if (key.length === 0) throw new RangeError('put: the key must not be empty');
    this.data.current.set(key, value);
    this.puts.current += 1;
    return currentVersion().version;
  }

  @P2P() get(key: string): Uint8Array | undefined {
    return this.data.current.get(key);
  }

  /** The value `key` had as of `version` (the newest write at or before it). */
  @P2P() getAt(key: string, version: bigint): Uint8Array | undefined {
    return this.data.get(version).get(key);
  }

  /** The newest version this replica's state holds. */
  @P2P() latestVersion(): bigint {
    return this.data.latestVersion;
  }
}
