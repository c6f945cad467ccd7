/**
 * An IoT "smart memory": sensor readings stream in as ordered calls; every replica of the shard
 * updates the same per-sensor model (running mean and variance, Welford's method), keeps only the
 * interesting readings (above a threshold, or far from the sensor's mean), and raises the same
 * alerts at the same versions. Dashboards read models, kept readings and alerts point-to-point.
 */
import { EventEmitter } from 'node:events';
import { currentVersion, Ordered, P2P, Replicated } from '@derecho-ts/runtime';

export interface Reading {
  sensor: string;
  /** Measurement time at the sensor, ms since the epoch. */
  atMs: number;
  value: number;
}

export interface SensorModel {
  count: number;
  mean: number;
  /** Sample variance (0 until two readings). */
  variance: number;
}

export interface Alert {
  sensor: string;
  value: number;
  reason: 'threshold' | 'anomaly';
  /** The version of the delivery that raised it: the same at every replica. */
  version: bigint;
}

export interface IngestResult {
  kept: boolean;
  alert: boolean;
}

export interface SmartMemoryRules {
  /** A reading above this is kept and raises an alert. */
  readonly threshold: number;
  /** A reading this many standard deviations from the sensor's mean is kept and raises an alert. */
  readonly zScore: number;
  /** Readings a sensor needs before anomaly detection starts. */
  readonly warmup: number;
  /** Interesting readings kept per sensor (oldest dropped first). */
  readonly keepPerSensor: number;
}

export const DEFAULT_RULES: SmartMemoryRules = { threshold: 90, zScore: 4, warmup: 10, keepPerSensor: 100 };

interface Welford {
  count: number;
  mean: number;
  m2: number;
}

@Replicated()
export class SmartMemory {
  /** Local notifications of alerts as this replica applies them (not replicated themselves). */
  readonly events = new EventEmitter<{ alert: [Alert] }>();
  private readonly models = new Map<string, Welford>();
  private readonly kept = new Map<string, Reading[]>();
  private readonly raised: Alert[] = [];

  constructor(private readonly rules: SmartMemoryRules = DEFAULT_RULES) {}

  @Ordered() ingest(reading: Reading): IngestResult {
    if (!Number.isFinite(reading.value)) throw new RangeError(`sensor ${reading.sensor}: reading ${reading.value} is not a finite number`);
    const m = this.models.get(reading.sensor) ?? { count: 0, mean: 0, m2: 0 };
    let reason: Alert['reason'] | undefined;
    if (reading.value > this.rules.threshold) reason = 'threshold';
    else if (m.count >= this.rules.warmup) {
      const sd = Math.sqrt(m.m2 / (m.count - 1));
      if (sd > 0 && Math.abs(reading.value - m.mean) / sd > this.rules.zScore) reason = 'anomaly';
    }
    // Anomalies do not enter the model, so one spike does not widen what counts as normal.
    if (reason !== 'anomaly') {
      m.count++;
      const delta = reading.value - m.mean;
      m.mean += delta / m.count;
      m.m2 += delta * (reading.value - m.mean);
      this.models.set(reading.sensor, m);
    }
    if (reason === undefined) return { kept: false, alert: false };
    const kept = this.kept.get(reading.sensor) ?? [];
    kept.push(reading);
    if (kept.length > this.rules.keepPerSensor) kept.shift();
    this.kept.set(reading.sensor, kept);
    const alert: Alert = { sensor: reading.sensor, value: reading.value, reason, version: currentVersion().version };
    this.raised.push(alert);
    this.events.emit('alert', alert);
    return { kept: true, alert: true };
  }

  @P2P() model(sensor: string): SensorModel | undefined {
    const m = this.models.get(sensor);
    return m === undefined ? undefined : { count: m.count, mean: m.mean, variance: m.count > 1 ? m.m2 / (m.count - 1) : 0 };
  }

  @P2P() interesting(sensor: string): Reading[] {
    return [...(this.kept.get(sensor) ?? [])];
  }

  /** Alerts raised at versions after `afterVersion` (all of them by default). */
  @P2P() @Ordered() alerts(afterVersion?: bigint): Alert[] {
    return this.raised.filter((a) => afterVersion === undefined || a.version > afterVersion);
  }
}
