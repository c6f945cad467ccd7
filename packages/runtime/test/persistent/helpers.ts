import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Packr } from 'msgpackr';
import type { GroupView } from '../../src/core/membership/group-view.js';
import type { Codec } from '../../src/persistent/codec.js';
import type { DeltaSupport } from '../../src/persistent/delta.js';

/** A fresh directory under the OS temp dir; the caller removes it with `removeDir`. */
export function makeTempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `derecho-persist-${label}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

const packr = new Packr({ useRecords: false });

/**
 * A delta type for tests: an append-only list of numbers whose delta is the numbers appended since
 * the last takeDelta.
 */
export class NumberList implements DeltaSupport {
  private added: number[] = [];
  constructor(readonly items: number[] = []) {}

  push(...xs: number[]): void {
    this.items.push(...xs);
    this.added.push(...xs);
  }

  takeDelta(): Uint8Array {
    const delta = this.added.length === 0 ? new Uint8Array(0) : packr.pack(this.added);
    this.added = [];
    return delta;
  }

  applyDelta(delta: Uint8Array): void {
    if (delta.byteLength === 0) return;
    this.items.push(...(packr.unpack(delta) as number[]));
  }
}

export const numberListCodec: Codec<NumberList> = {
  encode: (value) => packr.pack(value.items),
  decode: (bytes) => new NumberList(packr.unpack(bytes) as number[]),
};

/** A delta type holding a count and a sum; its delta is the numbers added since the last take. */
export class SumCounter implements DeltaSupport {
  private added: number[] = [];
  constructor(
    public count = 0,
    public sum = 0,
  ) {}

  add(x: number): void {
    this.count++;
    this.sum += x;
    this.added.push(x);
  }

  takeDelta(): Uint8Array {
    const delta = packr.pack(this.added);
    this.added = [];
    return delta;
  }

  applyDelta(delta: Uint8Array): void {
    for (const x of packr.unpack(delta) as number[]) {
      this.count++;
      this.sum += x;
    }
  }
}

export const sumCounterCodec: Codec<SumCounter> = {
  encode: (value) => packr.pack([value.count, value.sum]),
  decode: (bytes) => {
    const [count, sum] = packr.unpack(bytes) as [number, number];
    return new SumCounter(count, sum);
  },
};

/** Deterministic bytes for version v (1..2000 bytes), so a reader can check any version is intact. */
export function payloadForVersion(v: number): Uint8Array {
  const bytes = new Uint8Array(1 + ((v * 7919) % 2000));
  let x = (v * 2654435761) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** A view of members `ids` with one persistent subgroup of one shard (for restart-log tests). */
export function viewOf(vid: number, ids: number[]): GroupView {
  return {
    vid,
    members: ids.map((id) => ({ id, host: '127.0.0.1', port: 9000 + id })),
    subgroups: [
      {
        type: 'KV',
        index: 0,
        shards: [{ members: ids, senders: ids.map(() => true), mode: 'persistent' }],
        params: { windowSize: 16, maxPayloadBytes: 10240, maxSmcPayloadBytes: 1024, blockBytes: 1 << 20 },
      },
    ],
  };
}
