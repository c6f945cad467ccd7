/**
 * The reduce side of a MapReduce over the sensor store: map tasks' partial results arrive as
 * ordered calls, so every replica of the reducer merges the same partials in the same order and
 * holds the same result, whichever replicas answered the map tasks.
 */
import { Ordered, P2P, Replicated } from '@derecho-ts/runtime';
import { emptyTally, mergeTally, type Tally } from './sensor-shard.js';

export interface JobResult {
  /** Map tasks merged so far. */
  readonly parts: number;
  /** Per sensor, the merged tally. */
  readonly sensors: Record<string, Tally>;
}

@Replicated()
export class Reducer {
  private readonly jobs = new Map<string, { parts: Set<string>; sensors: Map<string, Tally> }>();

  /** One map task's result (`task` names it, so a retried submission is merged once). */
  @Ordered() submit(job: string, task: string, partial: Record<string, Tally>): number {
    let state = this.jobs.get(job);
    if (state === undefined) this.jobs.set(job, (state = { parts: new Set(), sensors: new Map() }));
    if (state.parts.has(task)) return state.parts.size;
    state.parts.add(task);
    for (const [sensor, t] of Object.entries(partial)) {
      const into = state.sensors.get(sensor) ?? emptyTally();
      mergeTally(into, t);
      state.sensors.set(sensor, into);
    }
    return state.parts.size;
  }

  @P2P() result(job: string): JobResult | undefined {
    const state = this.jobs.get(job);
    if (state === undefined) return undefined;
    const sensors: Record<string, Tally> = {};
    for (const sensor of [...state.sensors.keys()].sort()) sensors[sensor] = state.sensors.get(sensor)!;
    return { parts: state.parts.size, sensors };
  }
}
