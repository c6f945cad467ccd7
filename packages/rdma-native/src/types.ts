/** Types shared by the fabric facade: what poll() returns and what the options look like. */

/** Severity of a line the native layer logged (handshake refusals, dropped connections, ...). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  level: LogLevel;
  message: string;
}

/** Rows of one region that remote writes changed in this batch. */
export interface RegionChange {
  regionId: number;
  rows: number[];
}

/** A point-to-point message; `data` is the buffer it was received into (no copy). */
export interface P2PMessage {
  from: number;
  data: Uint8Array;
}

/**
 * One complete RDMC message. On receivers `data` is the native buffer the blocks were received
 * into, handed over without a copy (an external ArrayBuffer freed by its finalizer). On the sender
 * it is the very Uint8Array passed to send(), reported once every receiver has the whole message.
 */
export interface RdmcMessage {
  groupId: number;
  sender: number;
  /** Per-group message counter, from 0. */
  index: number;
  data: Uint8Array;
  ownMessage: boolean;
  /**
   * Hands a received buffer back for reuse by later messages (Derecho's preregistered receive
   * buffers): `data` is detached (its length becomes 0) and the memory is recycled. Optional —
   * an unreleased buffer is recycled when garbage-collected. A no-op for the sender's own message.
   */
  release(): void;
}

export interface PeerFailure {
  nodeId: number;
  reason: string;
  /**
   * The handshake refused the connection (wrong secret, build or protocol version, an id already
   * in use): a caller should not dial again. Otherwise the peer is down, unreachable, or not
   * listening yet.
   */
  refused: boolean;
}

/** Everything one poll() applied or collected. */
export interface PollResult {
  /** Remote writes applied to region memory by this poll. */
  writes: number;
  changed: RegionChange[];
  p2p: P2PMessage[];
  rdmc: RdmcMessage[];
  failures: PeerFailure[];
  logs: LogLine[];
  /** Peers whose connection finished its handshake. */
  connected: number[];
}

export interface EndpointOptions {
  /** This process's node id (unique in the cluster). */
  nodeId: number;
  /** Which compiled-in provider carries the endpoint (see `providers`); default the first, 'tcp'. */
  provider?: string;
  /** IPv4 address to listen on; default 127.0.0.1. */
  host?: string;
  /** Port to listen on; 0 (default) picks an ephemeral port, see Endpoint.port. */
  port?: number;
  /** Identifies the build (e.g. the schema-lock hash); a peer with a different one is refused. */
  buildHash: string;
  /**
   * The cluster secret; both sides prove it with HMAC-SHA256 over fresh nonces. During a rotation
   * a list, the new secret first ([new, old]): any of them is accepted from a peer, and each
   * connection proves the first one both sides hold. At most 4.
   */
  secret: string | readonly string[];
  /**
   * TLS 1.3 on every connection, mutually authenticated against the cluster CA; off when absent.
   * A peer's certificate must carry the node id it claims as a subjectAltName URI
   * `derecho:node:<id>`. With TLS every frame is read on the I/O thread (receiveOnJsThread and
   * inline polls read nothing themselves).
   */
  tls?: TlsOptions;
  /** A put with completion not acknowledged within this many ms fails the peer; default 1000. */
  heartbeatTimeoutMs?: number;
  /** A connection that has not finished its handshake by then is dropped; default 5000. */
  handshakeTimeoutMs?: number;
  /**
   * Batch puts: each put is copied into a per-connection buffer and all of them go out in one
   * write at the end of the current JS task (a microtask), at the next poll(), at flush(), or when
   * 64 KiB accumulate — far fewer syscalls for many small puts, at the price of a put leaving only
   * at one of those points. Puts of 8 KiB or more are written at once (after what is corked).
   * Order is unchanged (also against later sendP2P). Default false.
   */
  batchPuts?: boolean;
  /**
   * After a poll({ inline: true }), the endpoint treats the JS thread as busy-polling for this many
   * ms: the I/O thread stops listening for SST writes on connections JS reads itself (it is called
   * back for any other frame). Default 2.
   */
  busyPollWindowMs?: number;
  /**
   * SST writes are read on the JS thread, which the event loop wakes straight from the sockets,
   * instead of being read by the I/O thread and handed over: one thread wake-up per arrival
   * instead of two (lower latency). The I/O thread still takes every other frame (P2P, RDMC,
   * handshakes), SST writes too large for the inline reader (over 64 KiB in one frame), and
   * failure detection. Default false.
   */
  receiveOnJsThread?: boolean;
  /**
   * A blocked event loop (a long synchronous handler, a GC pause, a starved machine) does not make
   * this node look dead: whenever JS has not taken a batch for a quarter of heartbeatTimeoutMs, the
   * I/O thread reads and acknowledges puts itself (as an RDMA NIC would). Once JS has left a wake-up
   * untaken for this many ms, puts are no longer acknowledged, so peers suspect a node that is stuck
   * for good (after heartbeatTimeoutMs more). Default 0: acknowledge as long as the process runs.
   */
  blockedLoopLimitMs?: number;
  /** close() keeps writing data already handed to put/sendP2P/send for at most this long; default 2000. */
  lingerMs?: number;
  /** Bytes of writes per writer held for regions not created yet; default 64 MiB. */
  maxHeldBytes?: number;
  /**
   * Connections that have not proved the cluster secret yet, at most, at once; further ones are
   * closed as soon as they are accepted (a quarter of this from any one address). Default 64.
   */
  maxPendingHandshakes?: number;
  /** New connections accepted per second from one address (a burst of as many); default 64. */
  handshakesPerSecondPerAddress?: number;
}

/** PEM texts (not paths) for an endpoint's TLS. */
export interface TlsOptions {
  /** The cluster CA certificate(s) peers' certificates must chain to. */
  ca: string;
  /** This node's certificate (then any intermediates); it must carry this node's id. */
  cert: string;
  /** This node's private key (unencrypted PEM), matching `cert`. */
  key: string;
}

export interface RegionOptions {
  regionId: number;
  /** Bytes per row. */
  rowBytes: number;
  /** Node ids; row i belongs to members[i]. Must include this node. */
  members: number[];
  /**
   * What the region holds before any remote write (default all zeros): exactly rowBytes ×
   * members.length bytes. Writes that arrived for this region before it existed are applied on
   * top of it, so peers' early writes survive the initialization.
   */
  initialContents?: Uint8Array;
}

/** [offsetInRow, byteLength] */
export type ByteRange = readonly [number, number];

export interface PutOptions {
  /** Ask for an acknowledgement; a missing one within heartbeatTimeoutMs fails the target. */
  completion?: boolean;
}

export interface RdmcGroupOptions {
  groupId: number;
  /** Node ids, the sender first. */
  members: number[];
  blockBytes: number;
}

/** Counters for diagnostics and tests. */
export interface EndpointStats {
  /** SST writes received by the native I/O thread and handed over in a batch. */
  putsReceivedByIoThread: number;
  /** SST writes read straight from the sockets by poll({ inline: true }). */
  putsReceivedInline: number;
}
