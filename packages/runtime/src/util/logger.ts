/**
 * The runtime's structured logger: pino, writing to stderr so a program's stdout stays its own
 * (benchmarks print their figures there).
 */
import { pino, type LevelWithSilent, type Logger } from 'pino';

export type { Logger };

/** `level` is the config's `logging.level` (the same names as pino's levels). */
export function createLogger(level: LevelWithSilent, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: bindings }, pino.destination({ fd: 2, sync: true }));
}
