/**
 * The network as the shell (../shell) needs it: what the member's outputs ask of a fabric and
 * what the fabric hands back as inputs. Shaped from the native endpoint's facade (rdma-native),
 * which the driver adapts to it, and implemented again by the simulator over its virtual network;
 * the shell never knows which one it runs on. Types only.
 */

/** A byte range of my own row: `[offset within the row, length]`. */
export type FabricByteRange = readonly [offset: number, length: number];

/** One SST of one view: a table of one row per member, each row written only by its member. */
export interface FabricRegion {
  /** The whole table; remote writes land in their writer's row, I write my own row here. */
  readonly buffer: ArrayBuffer;
  /**
   * Writes `ranges` of my row into the same place of `targets`' copies (node ids). Writes of one
   * writer become visible in issue order; `completion` asks for an acknowledgement, whose absence
   * within the failure timeout fails the peer (the heartbeat).
   */
  put(ranges: readonly FabricByteRange[], targets: readonly number[], options: { readonly completion?: boolean }): void;
  close(): void;
}

export interface FabricRegionOptions {
  /** Unique per view (the shell uses the vid), so writes of consecutive views never mix. */
  readonly regionId: number;
  readonly rowBytes: number;
  /** Node id of each row, in row order. */
  readonly members: number[];
  /** The initialized table; writes that arrived for this region earlier are applied on top. */
  readonly initialContents: Uint8Array;
}

/** A sender's RDMC group (large-message multicast along a binomial pipeline). */
export interface FabricRdmcGroup {
  /** Sends one message to every member; each hears of it once as a whole (`FabricBatch.rdmc`), the sender last. */
  send(data: Uint8Array): void;
  destroy(): void;
}

export interface FabricRdmcGroupOptions {
  readonly groupId: number;
  /** `members[0]` is the sender. */
  readonly members: number[];
  readonly blockBytes: number;
}

export interface FabricFailure {
  /** The peer, or the fabric's `unknownPeer` when a dial of an address (no id known yet) failed. */
  readonly nodeId: number;
  readonly reason: string;
  /** The handshake refused the connection (wrong secret, build, version): dialing again is futile. */
  readonly refused: boolean;
}

/** Everything that arrived since the last batch, handed to the shell in one call. */
export interface FabricBatch {
  /** Remote writes applied to region memory in this batch. */
  readonly writes: number;
  /** Regions whose rows remote writes changed. */
  readonly changed: readonly { readonly regionId: number }[];
  /** Point-to-point messages, FIFO per sender (control and RPC traffic). */
  readonly p2p: readonly { readonly from: number; readonly data: Uint8Array }[];
  /** Completed RDMC messages (on the sender: its own message, once every receiver has it). */
  readonly rdmc: readonly { readonly groupId: number; readonly data: Uint8Array }[];
  readonly failures: readonly FabricFailure[];
  /** The fabric's own log lines (refused handshakes, dropped connections). */
  readonly logs: readonly { readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly message: string }[];
  /** Peers whose connection finished its handshake (dialed by either side). */
  readonly connected: readonly number[];
}

export interface Fabric {
  readonly nodeId: number;
  /** The node id a failure carries when a dial of an address (`dialAddress`) failed. */
  readonly unknownPeer: number;
  /** Dials an address without knowing which node listens there (a joiner's contact); answered by `connected` or a failure under `unknownPeer`. */
  dialAddress(host: string, port: number): void;
  /** Dials a peer; idempotent. Answered by `connected`, or a failure. */
  connect(nodeId: number, host: string, port: number): void;
  /** Whether a connection with `nodeId` has finished its handshake and not failed since. */
  isConnected(nodeId: number): boolean;
  /** A reliable FIFO message; chunks go out as one message. Throws without a connection. */
  sendP2P(nodeId: number, data: Uint8Array | readonly Uint8Array[]): void;
  /** Drops the connection. `routine`: the protocol removed the peer (not its fault). */
  failPeer(nodeId: number, reason: string, options: { readonly routine: boolean }): void;
  createRegion(options: FabricRegionOptions): FabricRegion;
  createRdmcGroup(options: FabricRdmcGroupOptions): FabricRdmcGroup;
  /** Who gets every batch; the fabric calls it on the shell's own thread, never re-entrantly. */
  onBatch(listener: (batch: FabricBatch) => void): void;
  close(): void;
}
