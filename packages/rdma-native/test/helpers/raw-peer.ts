/**
 * A hand-driven peer on a raw socket, for tests that play an attacker or a broken node: it builds
 * frames of every kind (native/wire.h), can run the dialer's side of the handshake with node:crypto
 * (so it holds the cluster secret like a member would) and reads back what the endpoint sends.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';

export const FrameType = { Hello: 1, HelloAck: 2, Reject: 3, Proof: 4, Put: 5, PutAck: 6, P2P: 7, RdmcBlock: 8, RdmcDone: 9 } as const;
export const PROTOCOL_VERSION = 2;
const MAGIC = 0xde7c;
const NONCE_BYTES = 32;
/** The Hello's secret tags (wire.h kMaxSecrets × kSecretTagBytes): left zero, the acceptor proves its first secret. */
const SECRET_TAGS_BYTES = 4 * 8;

export function frame(type: number, sub: Uint8Array = Buffer.alloc(0), payload: Uint8Array = Buffer.alloc(0), payloadLen?: bigint): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16LE(MAGIC, 0);
  h.writeUInt8(type, 2);
  h.writeUInt32LE(sub.length, 4);
  h.writeBigUInt64LE(payloadLen ?? BigInt(payload.length), 8);
  return Buffer.concat([h, sub, payload]);
}

export function helloSub(nodeId: number, nonce: Uint8Array, version = PROTOCOL_VERSION): Buffer {
  const s = Buffer.alloc(8 + NONCE_BYTES + SECRET_TAGS_BYTES);
  s.writeUInt32LE(version, 0);
  s.writeUInt32LE(nodeId, 4);
  Buffer.from(nonce).copy(s, 8);
  return s;
}

export function rdmcBlockSub(f: { groupId: number; blockNo: number; msgIndex: bigint; totalBytes: bigint; blockBytes: number }): Buffer {
  const s = Buffer.alloc(32);
  s.writeUInt32LE(f.groupId, 0);
  s.writeUInt32LE(f.blockNo, 4);
  s.writeBigUInt64LE(f.msgIndex, 8);
  s.writeBigUInt64LE(f.totalBytes, 16);
  s.writeUInt32LE(f.blockBytes, 24);
  return s;
}

export function putFrame(regionId: number, ranges: [number, number][], ackSeq = 0n): Buffer {
  const sub = Buffer.alloc(16);
  sub.writeUInt32LE(regionId, 0);
  sub.writeUInt32LE(ranges.length, 4);
  sub.writeBigUInt64LE(ackSeq, 8);
  const table = Buffer.alloc(ranges.length * 8);
  ranges.forEach(([off, len], i) => {
    table.writeUInt32LE(off, i * 8);
    table.writeUInt32LE(len, i * 8 + 4);
  });
  const data = Buffer.alloc(ranges.reduce((n, [, len]) => n + len, 0), 0x5a);
  return frame(FrameType.Put, sub, Buffer.concat([table, data]));
}

/** The handshake proof: HMAC-SHA256(secret, label ‖ dialer nonce ‖ acceptor nonce ‖ dialer id ‖ acceptor id). */
export function proofMac(secret: string, label: string, dialerNonce: Uint8Array, acceptorNonce: Uint8Array, dialerId: number, acceptorId: number): Buffer {
  const ids = Buffer.alloc(8);
  ids.writeUInt32LE(dialerId, 0);
  ids.writeUInt32LE(acceptorId, 4);
  return createHmac('sha256', secret).update(label).update(dialerNonce).update(acceptorNonce).update(ids).digest();
}

export interface ReceivedFrame {
  type: number;
  sub: Buffer;
  payload: Buffer;
}

export class RawPeer {
  readonly frames: ReceivedFrame[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 16) {
        const subLen = this.buf.readUInt32LE(4);
        const payloadLen = Number(this.buf.readBigUInt64LE(8));
        if (this.buf.length < 16 + subLen + payloadLen) break;
        this.frames.push({
          type: this.buf[2],
          sub: this.buf.subarray(16, 16 + subLen),
          payload: this.buf.subarray(16 + subLen, 16 + subLen + payloadLen),
        });
        this.buf = this.buf.subarray(16 + subLen + payloadLen);
      }
      this.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static open(port: number, localAddress?: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ port, host: '127.0.0.1', localAddress }, () => {
        s.off('error', reject);
        resolve(new RawPeer(s));
      });
      s.once('error', reject);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once `done()` holds (checked on every frame and on close), or rejects after timeoutMs. */
  waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(t);
        this.waiters.delete(check);
        resolve();
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`raw peer: no ${what} within ${timeoutMs} ms (frames: ${this.frames.map((f) => f.type).join(',')}, closed: ${this.closed})`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Sends a Hello claiming `nodeId` and returns the nonce it used. */
  async hello(nodeId: number, buildHash: string, version = PROTOCOL_VERSION): Promise<Buffer> {
    const nonce = randomBytes(NONCE_BYTES);
    await this.write(frame(FrameType.Hello, helloSub(nodeId, nonce, version), Buffer.from(buildHash)));
    return nonce;
  }

  /** The whole dialer side of the handshake; resolves once our proof is sent (we are authenticated). */
  async authenticate(nodeId: number, opts: { secret?: string; buildHash?: string; timeoutMs?: number } = {}): Promise<number> {
    const secret = opts.secret ?? 'test-secret';
    const nonce = await this.hello(nodeId, opts.buildHash ?? 'test-build');
    await this.waitUntil(() => this.frames.length > 0 || this.closed, opts.timeoutMs ?? 10_000, 'hello-ack');
    const ack = this.frames.shift();
    if (!ack || ack.type !== FrameType.HelloAck) throw new Error(`handshake: expected a hello-ack, got ${ack ? `frame type ${ack.type}: ${ack.payload.toString()}` : 'a closed socket'}`);
    const acceptorId = ack.sub.readUInt32LE(4);
    const acceptorNonce = ack.sub.subarray(8, 8 + NONCE_BYTES);
    const proof = proofMac(secret, 'derecho-ts dialer proof', nonce, acceptorNonce, nodeId, acceptorId);
    await this.write(frame(FrameType.Proof, proof));
    return acceptorId;
  }

  /** Resolves when the endpoint closed the socket. */
  waitClosed(timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.closed, timeoutMs, 'close');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
