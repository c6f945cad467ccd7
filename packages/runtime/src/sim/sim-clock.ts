/**
 * One simulated node's Clock (../io/clock.ts) on the simulator's virtual time: timers are events
 * of the shared queue. A paused node's timers wait (a one-shot fires once it resumes, a tick that
 * falls in the pause is skipped, as a frozen process misses them); a stopped clock (the node
 * crashed or restarted as a new incarnation) never fires again.
 */
import type { Clock, ClockTimer } from '../io/clock.js';

/** What a node's clock needs from the simulator. */
export interface SimClockWorld {
  readonly nowUs: number;
  /** Runs `fn` at virtual time `atUs`. */
  at(atUs: number, fn: () => void): void;
  /** The first tick's offset into the period, drawn from the seed so nodes do not tick in lockstep. */
  firstTickDelayUs(intervalUs: number): number;
  /** Ticks stop after this virtual time (the run's end). */
  readonly tickUntilUs: number;
}

/** How long a paused node's due timer waits before it looks again. */
const PAUSED_RETRY_US = 10;

export class SimClock implements Clock {
  paused = false;
  private stopped = false;

  constructor(
    private readonly world: SimClockWorld,
    /** Runs after every tick (the simulated fabric's failure detector). */
    private readonly afterTick: () => void,
  ) {}

  nowUs(): number {
    return this.world.nowUs;
  }

  every(intervalUs: number, fn: () => void): ClockTimer {
    const timer = { cancelled: false, cancel: () => void (timer.cancelled = true) };
    const fire = (): void => {
      if (this.stopped || timer.cancelled) return;
      const next = this.world.nowUs + intervalUs;
      if (next <= this.world.tickUntilUs) this.world.at(next, fire);
      if (this.paused) return;
      fn();
      if (!timer.cancelled) this.afterTick();
    };
    this.world.at(this.world.nowUs + this.world.firstTickDelayUs(intervalUs), fire);
    return timer;
  }

  after(delayUs: number, fn: () => void): ClockTimer {
    const timer = { cancelled: false, cancel: () => void (timer.cancelled = true) };
    const fire = (): void => {
      if (this.stopped || timer.cancelled) return;
      if (this.paused) return this.world.at(this.world.nowUs + PAUSED_RETRY_US, fire);
      fn();
    };
    this.world.at(this.world.nowUs + delayUs, fire);
    return timer;
  }

  defer(fn: () => void): void {
    this.after(0, fn);
  }

  /** The node crashed or was replaced: nothing scheduled on this clock runs any more. */
  stop(): void {
    this.stopped = true;
  }
}
