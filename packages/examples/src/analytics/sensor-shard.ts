/**
 * The IoT smart memory grown up: sensor readings with the sensors' own timestamps, spread over
 * shards by sensor, persistent, and analytics that read the whole store at one instant while
 * ingest runs at full rate.
 *
 * Each shard keeps, per sensor time, the tally of the readings it received for it, and per sensor
 * its running tally. Read through `group.snapshot(t)`, every shard answers as of the same instant
 * `t` of the group's clock (server time): the answers are the store as it was at `t`, and asking
 * again gives the same answers. Read live (each shard at whatever it holds when asked), the
 * shards' answers may belong to no single instant: one shard counted readings another had not
 * received yet, or the other way round (a torn read). Sensor time is the devices' clock, data like
 * any other: "readings measured before 10:31" asked of a snapshot at 10:32 counts what the store
 * held at 10:32, late readings of 10:30 that arrive after it excluded.
 */
import { Ordered, P2P, PersistentMap, Replicated } from '@derecho-ts/runtime';

export interface SensorReading {
  readonly sensor: string;
  /** When the sensor measured it, µs since the epoch (the device's clock). */
  readonly atUs: number;
  readonly value: number;
}

export interface Tally {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export function emptyTally(): Tally {
  return { count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
}

export function addToTally(t: Tally, value: number): void {
  t.count++;
  t.sum += value;
  if (value < t.min) t.min = value;
  if (value > t.max) t.max = value;
}

export function mergeTally(into: Tally, t: Tally): void {
  into.count += t.count;
  into.sum += t.sum;
  if (t.min < into.min) into.min = t.min;
  if (t.max > into.max) into.max = t.max;
}

/** Which of `parts` map tasks covers `sensor` (FNV-1a of its name). */
export function partOf(sensor: string, parts: number): number {
  let h = 2166136261;
  for (let i = 0; i < sensor.length; i++) h = Math.imul(h ^ sensor.charCodeAt(i), 16777619) >>> 0;
  return h % parts;
}

@Replicated()
export class SensorShard {
  /** Per sensor time (a round), the tally of the readings received at it. */
  readonly rounds = new PersistentMap<number, Tally>();
  /** Per sensor, the tally of all its readings. */
  readonly sensors = new PersistentMap<string, Tally>();

  /** A device's report: its readings, applied by every replica of the shard. Returns how many. */
  @Ordered() record(readings: SensorReading[]): number {
    for (const r of readings) {
      if (!Number.isFinite(r.value) || !Number.isSafeInteger(r.atUs)) throw new RangeError(`sensor ${r.sensor}: a reading needs a finite value and integer atUs`);
      const round = this.rounds.current.get(r.atUs) ?? emptyTally();
      addToTally(round, r.value);
      this.rounds.current.set(r.atUs, round);
      const sensor = this.sensors.current.get(r.sensor) ?? emptyTally();
      addToTally(sensor, r.value);
      this.sensors.current.set(r.sensor, sensor);
    }
    return readings.length;
  }

  /** How many readings this shard holds (over `history()`, when each arrived). */
  @P2P() heldCount(): number {
    let count = 0;
    for (const t of this.rounds.current.values()) count += t.count;
    return count;
  }

  /** The tally of every reading this shard holds with sensor time at or before `throughUs`, and over how many sensor times. */
  @P2P() tallyThrough(throughUs: number): { tally: Tally; rounds: number } {
    const tally = emptyTally();
    let rounds = 0;
    for (const [atUs, t] of this.rounds.current) {
      if (atUs > throughUs) continue;
      mergeTally(tally, t);
      rounds++;
    }
    return { tally, rounds };
  }

  /** The map step of a MapReduce: per sensor of part `part` of `parts`, its tally. */
  @P2P() mapSensors(part: number, parts: number): Record<string, Tally> {
    const out: Record<string, Tally> = {};
    for (const [sensor, t] of this.sensors.current) if (partOf(sensor, parts) === part) out[sensor] = { ...t };
    return out;
  }
}
