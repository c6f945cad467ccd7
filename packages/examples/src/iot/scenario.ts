/** What the IoT demo does, shared by its members, its runner and its test. */
import type { MemberConfig } from '../local/local-group.js';
import type { Reading, SensorModel } from './smart-memory.js';

export const IOT_REPLICAS = 3;
export const SENSORS = ['boiler', 'freezer', 'pump'] as const;
export const READINGS_PER_SENSOR = 200;

export interface IotTask {
  readonly config: MemberConfig;
  readonly numNodes: number;
}

export interface IotStep {
  readonly node: number;
  readonly role: string;
  readonly lines: string[];
  /** Replicas: alerts as they fired locally, `sensor@version:value`. */
  readonly alerts?: string[];
  /** Dashboard: per replica, what it answered. */
  readonly views?: Record<string, { alerts: string[]; models: Record<string, SensorModel | undefined>; kept: Record<string, number> }>;
  readonly kept?: number;
}

/** Deterministic readings: a smooth signal per sensor with a few spikes and one drift above the threshold. */
export function readings(): Reading[] {
  const out: Reading[] = [];
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let i = 0; i < READINGS_PER_SENSOR; i++) {
    SENSORS.forEach((sensor, s) => {
      let value = 20 + s * 15 + Math.sin(i / 10) * 2 + (rand() - 0.5);
      if (i === 50 + s * 30) value += 25; // a spike: an anomaly, below the threshold
      if (sensor === 'boiler' && i >= 180) value = 95 + (i - 180) * 0.1; // overheating: above the threshold
      out.push({ sensor, atMs: 1_700_000_000_000 + i * 1000, value });
    });
  }
  return out;
}

