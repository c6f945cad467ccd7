/**
 * The inputs and outputs of the multicast core (etcd-raft style: the driver feeds inputs, the core
 * returns outputs; the core does no I/O). See README.md in this folder for the driver's contract.
 */
import type { Hlc } from './hlc.js';
import type { ByteRange } from './sst-layout.js';
import type { Version } from './version.js';

export type CoreInput =
  /** The application multicasts `payload` to subgroup `subgroup`; `sendWallUs` is its wall clock. */
  | { readonly kind: 'send'; readonly subgroup: number; readonly payload: Uint8Array; readonly sendWallUs: number; readonly cooked?: boolean }
  /** Several sends to one subgroup at once (e.g. everything the application sent in one tick):
   *  published together, so one push carries many slots. Same rules as `send` for each payload. */
  | {
      readonly kind: 'sendBatch';
      readonly subgroup: number;
      readonly payloads: readonly Uint8Array[];
      readonly sendWallUs: number;
      readonly cooked?: boolean;
      /** The payloads are the core's from now on (the driver already copied them): no copy here. */
      readonly owned?: boolean;
      /** Every payload that travels by RDMC (over maxSmcPayloadBytes) has HEADER_BYTES of its own
       *  just before it in its buffer: the core writes the message header there instead of copying
       *  header and payload into a new message. Only with `owned`. */
      readonly rdmcHeaderRoom?: boolean;
    }
  /** The driver applied a batch of remote writes to the table. */
  | { readonly kind: 'rowsChanged' }
  /** An RDMC message (header + payload) from the sender at SST row `senderRow` fully arrived here
   *  (for the sender itself: its send completed). */
  | { readonly kind: 'rdmcComplete'; readonly subgroup: number; readonly senderRow: number; readonly message: Uint8Array }
  /** Time passes; the core publishes its heartbeat (stability frontier) when one is due. */
  | { readonly kind: 'tick'; readonly nowUs: number }
  /** Persistent mode: everything of `subgroup` up to `version` is durable locally. */
  | { readonly kind: 'persisted'; readonly subgroup: number; readonly version: Version }
  /** Stop publishing, receiving and delivering (view change begins). */
  | { readonly kind: 'wedge' }
  /** After the wedge: deliver exactly indices 0..throughIndex[k] of each sender rank k (the ragged trim). */
  | { readonly kind: 'deliverTrim'; readonly subgroup: number; readonly throughIndex: readonly number[] };

export interface PushOutput {
  readonly kind: 'push';
  /** Ranges of MY row, in the order they must become visible at each target. */
  readonly ranges: readonly ByteRange[];
  /** SST rows (ranks in the view) to write them to; never includes my own row. */
  readonly targets: readonly number[];
  /** Ask for an acknowledgement (the heartbeat); a missing one means the target failed. */
  readonly withCompletion: boolean;
}

export interface RdmcSendOutput {
  readonly kind: 'rdmcSend';
  readonly subgroup: number;
  readonly shard: number;
  readonly index: number;
  /** Header + payload; owned by the driver from now on. */
  readonly message: Uint8Array;
  /** The shard's rows rotated so that I (the sender) am first, as RDMC's group order. */
  readonly groupRows: readonly number[];
}

export interface DeliverOutput {
  readonly kind: 'deliver';
  readonly subgroup: number;
  readonly shard: number;
  readonly senderNode: number;
  readonly index: number;
  /** (vid << 32) | seq for ordered/persistent, INVALID_VERSION for unordered. */
  readonly version: Version;
  /** Sender's send time made strictly monotone along the shard's deliveries (ordered modes). */
  readonly hlc: Hlc;
  /** A copy the receiver may keep. Small payloads share a 64 KiB chunk with others, so keeping one
   *  keeps its chunk alive: slice() it to keep a few bytes of a busy stream for long. */
  readonly payload: Uint8Array;
  readonly cooked: boolean;
}

export interface PersistOutput {
  readonly kind: 'persist';
  readonly subgroup: number;
  readonly version: Version;
}

export interface GlobalPersistedOutput {
  readonly kind: 'globalPersisted';
  readonly subgroup: number;
  /** min over the shard of persisted_num; only ever rises. */
  readonly version: Version;
}

export type CoreOutput = PushOutput | RdmcSendOutput | DeliverOutput | PersistOutput | GlobalPersistedOutput;
