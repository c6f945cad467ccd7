import { loadAddon, type NativeEndpoint } from './addon.js';
import { EndpointClosedError, FabricTimeoutError, NotConnectedError, PeerFailedError } from './errors.js';
import { RdmcGroup } from './rdmc-group.js';
import { Region } from './region.js';
import type { EndpointOptions, EndpointStats, RdmcMessage, PollResult, RdmcGroupOptions, RegionOptions } from './types.js';

/** The node id under which a failed `connectAny` dial is reported. */
export const ANY_NODE = 0xffffffff;

export type PollListener = (result: PollResult) => void;

const EMPTY: readonly never[] = Object.freeze([]);
/** What poll() returns when nothing arrived (shared and frozen: polling an idle endpoint allocates nothing). */
const NOTHING: PollResult = Object.freeze({
  writes: 0,
  changed: EMPTY as never[],
  p2p: EMPTY as never[],
  rdmc: EMPTY as never[],
  failures: EMPTY as never[],
  logs: EMPTY as never[],
  connected: EMPTY as never[],
});

function checkId(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new TypeError(`${what} must be an integer in 0..2^32-1, got ${String(value)}`);
  return value;
}

/**
 * A fabric endpoint: one listening port, one connection per peer, one native I/O thread.
 *
 * What arrives (remote writes, P2P messages, RDMC messages, failures, log lines) is collected by
 * the I/O thread and handed over in batches by poll(), on this thread. With a listener registered
 * (onPoll), the endpoint polls by itself each time the native side signals a new batch — once per
 * batch, not once per write. Without one, call poll() yourself (e.g. in a busy loop).
 */
export class Endpoint {
  readonly nodeId: number;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Which provider carries this endpoint ('tcp'). */
  readonly provider: string;
  private readonly native: NativeEndpoint;
  private readonly listeners = new Set<PollListener>();
  private closed = false;
  private readonly failed = new Map<number, string>();
  private readonly connected = new Set<number>();

  private constructor(options: EndpointOptions) {
    this.nodeId = checkId(options.nodeId, 'nodeId');
    const Native = loadAddon().Endpoint;
    this.native = new Native({ ...options, onWake: () => this.onWake() });
    this.port = this.native.port();
    this.provider = this.native.provider();
  }

  /** Opens an endpoint and starts listening. */
  static open(options: EndpointOptions): Endpoint {
    return new Endpoint(options);
  }

  /** Dials a peer. Idempotent; if both sides dial at once one connection survives. */
  connect(nodeId: number, host: string, port: number): void {
    this.assertOpen('connect');
    this.failed.delete(checkId(nodeId, 'nodeId'));
    this.native.connect(nodeId, host, port);
  }

  /**
   * Dials an address without knowing which node listens there (a joiner reaching its contact).
   * The node that answers appears in a later poll's `connected`; if the dial fails, the failure
   * is reported under ANY_NODE.
   */
  connectAny(host: string, port: number): void {
    this.assertOpen('connectAny');
    this.native.connect(ANY_NODE, host, port);
  }

  /** Registers a memory region (an SST). Writes that arrived for it before now are applied, on
   *  top of `initialContents` when given. */
  createRegion(options: RegionOptions): Region {
    this.assertOpen('createRegion');
    checkId(options.regionId, 'regionId');
    if (!Number.isInteger(options.rowBytes) || options.rowBytes <= 0)
      throw new TypeError(`rowBytes must be a positive integer, got ${String(options.rowBytes)}`);
    if (!Array.isArray(options.members) || options.members.length === 0)
      throw new TypeError('members must be a non-empty array of node ids');
    if (options.initialContents !== undefined && !(options.initialContents instanceof Uint8Array))
      throw new TypeError('initialContents must be a Uint8Array');
    const r = this.native.createRegion(options.regionId, options.rowBytes, options.members, options.initialContents);
    // Rows changed by held writes are reported by the next poll; with listeners, make it happen.
    if (r.heldApplied > 0) setImmediate(() => this.onWake());
    return new Region(this.native, options.regionId, options.rowBytes, [...options.members], r.buffer, r.myRow, this.scheduleFlush);
  }

  /** Creates an RDMC group (members[0] is the sender). */
  createRdmcGroup(options: RdmcGroupOptions): RdmcGroup {
    this.assertOpen('createRdmcGroup');
    checkId(options.groupId, 'groupId');
    this.native.createRdmcGroup(options.groupId, options.members, options.blockBytes);
    return new RdmcGroup(this.native, options.groupId, [...options.members], options.blockBytes, options.members[0] === this.nodeId);
  }

  /**
   * Sends a reliable FIFO message to a peer. An array of chunks goes out as one message, gathered
   * on the wire (never concatenated first). Throws NotConnectedError without a connection.
   */
  sendP2P(nodeId: number, data: Uint8Array | readonly Uint8Array[]): void {
    this.assertOpen('sendP2P');
    if (!this.native.sendP2P(nodeId, data)) throw new NotConnectedError(nodeId);
  }

  /**
   * Applies pending remote writes and returns everything that arrived since the last poll.
   * With `{ inline: true }` it also reads SST writes waiting in the sockets right here, on this
   * thread, instead of waiting for the I/O thread to hand them over: the lowest-latency path, meant
   * for busy-polling loops (Derecho's predicate thread polls the same way).
   */
  poll(options?: { inline?: boolean }): PollResult {
    if (this.closed) return NOTHING;
    const n = this.native.poll(options?.inline === true);
    if (n === undefined) return NOTHING;
    const result: PollResult = {
      writes: n.writes,
      changed: n.changed ?? (EMPTY as never[]),
      p2p: n.p2p ?? (EMPTY as never[]),
      rdmc: n.rdmc ? n.rdmc.map((m) => this.withRelease(m)) : (EMPTY as never[]),
      failures: n.failures ?? (EMPTY as never[]),
      logs: n.logs ?? (EMPTY as never[]),
      connected: n.connected ?? (EMPTY as never[]),
    };
    for (const id of result.connected) this.connected.add(id);
    for (const f of result.failures) {
      this.connected.delete(f.nodeId);
      this.failed.set(f.nodeId, f.reason);
    }
    return result;
  }

  /** Polls automatically on every native wake-up and hands each batch to `listener`. */
  onPoll(listener: PollListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves once every node in `nodeIds` is connected; rejects with PeerFailedError if one of them
   * fails first, or FabricTimeoutError after `timeoutMs`. Needs an onPoll listener or polls itself.
   */
  async waitConnected(nodeIds: readonly number[], timeoutMs = 10_000): Promise<void> {
    await this.waitFor(() => nodeIds.every((id) => this.connected.has(id)), timeoutMs, `connections to ${nodeIds.join(', ')}`, nodeIds);
  }

  /**
   * Polls (every wake-up, and at least every millisecond) until `predicate` holds. Rejects with
   * PeerFailedError when one of `watch` fails, FabricTimeoutError after `timeoutMs`.
   */
  waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition', watch: readonly number[] = []): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const check = (): boolean => {
        // The predicate first: a peer's last writes and its departure can arrive in one batch.
        if (predicate()) {
          finish();
          return true;
        }
        for (const id of watch) {
          const why = this.failed.get(id);
          if (why !== undefined) {
            finish(new PeerFailedError(id, why));
            return true;
          }
        }
        if (Date.now() > deadline) {
          finish(new FabricTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`));
          return true;
        }
        return false;
      };
      const off = this.onPoll(() => void check());
      const timer = setInterval(() => {
        if (this.listeners.size === 1) this.dispatch(this.poll());
        check();
      }, 1);
      const finish = (err?: Error): void => {
        off();
        clearInterval(timer);
        if (err) reject(err);
        else resolve();
      };
      check();
    });
  }

  /**
   * Drops the connection to a peer and reports it failed. `routine`: the drop is expected (the
   * membership protocol removed the peer), so its log line is info rather than error.
   */
  failPeer(nodeId: number, reason: string, options: { routine?: boolean } = {}): void {
    this.assertOpen('failPeer');
    this.native.failPeer(nodeId, reason, options.routine === true);
  }

  /** Node ids with an established connection right now. */
  connectedPeers(): number[] {
    return this.closed ? [] : this.native.connectedPeers();
  }

  /** Receive-path counters (which thread took the SST writes). */
  stats(): EndpointStats {
    return this.closed ? { putsReceivedByIoThread: 0, putsReceivedInline: 0 } : this.native.stats();
  }

  /** Lets the process exit while the endpoint is open (like net.Server.unref). */
  unref(): void {
    if (!this.closed) this.native.unref();
  }

  ref(): void {
    if (!this.closed) this.native.ref();
  }

  /** Stops the I/O thread and releases every socket, thread and buffer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.native.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** With batchPuts: writes the batched puts now (poll() and the end of the JS task also do). */
  flush(): void {
    if (!this.closed) this.native.flush();
  }

  private flushScheduled = false;
  private readonly scheduleFlush = (): void => {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  };

  private withRelease(m: Omit<RdmcMessage, 'release'>): RdmcMessage {
    const release = m.ownMessage
      ? () => undefined
      : () => {
          if (m.data.byteLength > 0) loadAddon().releaseRdmcBuffer(m.data.buffer as ArrayBuffer);
        };
    return { ...m, release };
  }

  private onWake(): void {
    if (this.closed || this.listeners.size === 0) return;
    this.dispatch(this.poll());
  }

  private dispatch(result: PollResult): void {
    for (const l of [...this.listeners]) l(result);
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new EndpointClosedError(what);
  }
}
