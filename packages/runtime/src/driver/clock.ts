/** The driver's wall clock in microseconds (the core takes time only as an input). */
const originUs = Math.round(performance.timeOrigin * 1000);

export function wallClockUs(): number {
  return originUs + Math.round(performance.now() * 1000);
}
