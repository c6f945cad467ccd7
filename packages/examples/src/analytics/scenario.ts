/** What the analytics demo does, shared by its members, its runner and its test. */
import type { MemberConfig } from '../local/local-group.js';
import type { Tally } from './sensor-shard.js';

export const ANALYTICS_SHARDS = 2;
export const ANALYTICS_REPLICAS = 2;
/** Sensor store replicas (the first of each shard also the gateway of its sensors), plus the analytics member (the reducer). */
export const ANALYTICS_NODES = ANALYTICS_SHARDS * ANALYTICS_REPLICAS + 1;
export const SENSORS_PER_SHARD = 20;
/** Devices report every this many milliseconds, for this long. */
export const ROUND_MS = 10;
export const INGEST_MS = 3000;

/** One version of a shard: how many readings it added, and its HLC (the group's clock). */
export interface Delivery {
  readonly count: number;
  readonly wallUs: number;
  readonly logical: number;
}

export interface AnalyticsTask {
  readonly config: MemberConfig;
  readonly numNodes: number;
}

/** A query of the whole store: each shard's count of readings, and the instant it was read as of (snapshots). */
export interface ShardCounts {
  readonly atUs?: number;
  readonly counts: number[];
}

export interface AnalyticsStep {
  readonly node: number;
  readonly role: string;
  readonly lines: string[];
  /** The analytics member: per shard, every version (read back with `history()`: when, how many readings). */
  readonly deliveries?: Delivery[][];
  readonly snapshots?: { first: ShardCounts; again: ShardCounts }[];
  readonly live?: ShardCounts[];
  /** The same MapReduce job run twice over one snapshot, map tasks on different replicas each time. */
  readonly mapReduce?: { atUs: number; runs: Record<string, Tally>[] };
  readonly readingsSent?: number;
}

/** The sensors of shard `shard`, named so that the gateway can route by name. */
export function sensorsOf(shard: number): string[] {
  return Array.from({ length: SENSORS_PER_SHARD }, (_, i) => `shard${shard}-sensor${i}`);
}

/** A reading's value: deterministic from the sensor and the round. */
export function valueOf(sensorIndex: number, round: number): number {
  return 20 + sensorIndex + Math.sin(round / 7) * 5;
}
