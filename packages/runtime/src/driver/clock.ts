/** The driver's clock: wall time in microseconds and Node's timers, as the shell's Clock port. */
import type { Clock, ClockTimer } from '../io/clock.js';

const originUs = Math.round(performance.timeOrigin * 1000);

export function wallClockUs(): number {
  return originUs + Math.round(performance.now() * 1000);
}

/** Timers in whole milliseconds (Node's resolution); at least 1 ms so a tick never spins. */
function timerMs(us: number): number {
  return Math.max(1, Math.round(us / 1000));
}

export const wallClock: Clock = {
  nowUs: wallClockUs,
  every(intervalUs: number, fn: () => void): ClockTimer {
    const t = setInterval(fn, timerMs(intervalUs));
    return { cancel: () => clearInterval(t) };
  },
  after(delayUs: number, fn: () => void): ClockTimer {
    const t = setTimeout(fn, timerMs(delayUs));
    return { cancel: () => clearTimeout(t) };
  },
  defer: queueMicrotask,
};
