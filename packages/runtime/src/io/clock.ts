/**
 * Time as the shell (../shell) needs it: the current time for the protocol's inputs, a periodic
 * tick, one-shot timers, and deferral to the end of the current step. The driver implements it
 * with the wall clock and Node's timers; the simulator with its virtual clock, where a paused
 * node's timers wait and a crashed node's never fire. Types only.
 */

export interface ClockTimer {
  cancel(): void;
}

export interface Clock {
  /** Microseconds on this node's clock (the protocol compares only differences of them). */
  nowUs(): number;
  /** Calls `fn` every `intervalUs` until cancelled. */
  every(intervalUs: number, fn: () => void): ClockTimer;
  /** Calls `fn` once, `delayUs` from now, unless cancelled first. */
  after(delayUs: number, fn: () => void): ClockTimer;
  /** Calls `fn` after the current step and its outputs are done (a microtask; in the simulator, the next event at this time). */
  defer(fn: () => void): void;
}
