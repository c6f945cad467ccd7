import type { Hlc } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import type { RecordKind } from './record-format.js';
import { RecordLog } from './record-log.js';

/** A RecordLog held in memory: what Volatile<T> stands on. Persisting is a no-op that moves the mark. */
export class MemoryLog extends RecordLog {
  /** Payloads by physical index entry. */
  private payloads: Uint8Array[] = [];

  protected storeRecord(_version: Version, _time: Hlc, _kind: RecordKind, payload: Uint8Array): number {
    this.payloads.push(payload.slice());
    return this.payloads.length - 1;
  }

  protected storeTrimMarker(): void {}

  protected readPayload(i: number): Uint8Array {
    return this.payloads[i].slice();
  }

  protected storePersist(): void {}

  protected storeTruncate(i: number): void {
    this.payloads.length = i;
  }

  protected storeReset(): void {
    this.payloads = [];
  }

  protected storeTrimmed(): void {
    const start = this.index.start;
    const base = start < this.index.physicalLength ? this.index.baseOf(start) : -1;
    const keepFrom = base >= 0 ? base : start;
    if (keepFrom === 0) return;
    this.payloads.splice(0, keepFrom);
    this.index.dropBefore(keepFrom, (location) => location - keepFrom);
  }

  close(): void {}
}
