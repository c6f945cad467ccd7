/**
 * The runtime's structured logger: pino, writing to stderr so a program's stdout stays its own
 * (benchmarks print their figures there).
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/schema.js';

export type { Logger };

export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: bindings }, pino.destination({ fd: 2, sync: true }));
}
