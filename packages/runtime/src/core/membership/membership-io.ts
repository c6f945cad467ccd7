/**
 * Inputs and outputs of the view manager (the membership protocol spanning views). Multicast
 * inputs and outputs are the multicast core's own (`../core-io.ts`) and always refer to the
 * manager's CURRENT view (`manager.vid` when the driver handles them).
 */
import type { CoreInput, CoreOutput } from '../core-io.js';
import type { Hlc } from '../hlc.js';
import type { GroupView, MemberAddress } from './group-view.js';
import type { StateTransfer } from './next-view.js';

/** Multicast inputs the manager passes to the current view's core (wedge and trim are its own). */
export type MulticastInput = Exclude<CoreInput, { kind: 'wedge' } | { kind: 'deliverTrim' }>;

export type MembershipInput =
  | MulticastInput
  /** The driver's failure detector: missed heartbeat completion or broken connection to `node`. */
  | { readonly kind: 'peerFailed'; readonly node: number }
  /** The application reports `node` as failed (Derecho's report_failure). */
  | { readonly kind: 'reportFailure'; readonly node: number }
  /** A node asks to join (delivered to whichever member it contacted). */
  | { readonly kind: 'joinRequest'; readonly joiner: MemberAddress }
  /** Graceful leave of this node. */
  | { readonly kind: 'leave' }
  /** The ragged trim of `subgroup` in view `vid` (from a `logTrim` output) is durable. */
  | { readonly kind: 'trimLogged'; readonly vid: number; readonly subgroup: number }
  /**
   * The table of view `vid` (from `installView`) is allocated and initialized (initializeSstTable),
   * and the state of every shard I move into (the `stateTransfers` to me) is installed:
   * `hlcFloors` holds, per such subgroup, the HLC that came with it (`sendState.hlc`).
   */
  | { readonly kind: 'viewTableReady'; readonly vid: number; readonly table: ArrayBuffer; readonly hlcFloors?: ReadonlyMap<number, Hlc> };

export type ShutdownReason = 'partitioned' | 'removed' | 'left';

export type MembershipOutput =
  | CoreOutput
  /** Make this ragged trim durable (the restart log), then input `trimLogged`. Followers echo only after. */
  | { readonly kind: 'logTrim'; readonly vid: number; readonly subgroup: number; readonly shard: number; readonly shardLeader: number; readonly throughIndex: readonly number[] }
  /**
   * The closing view delivered its trim: install `view`. The driver allocates and initializes its
   * table (initializeSstTable with view.vid), connects to joiners, drops departed members, and
   * inputs `viewTableReady`. Remote writes for the new vid that arrive before that are held back.
   */
  | {
      readonly kind: 'installView';
      readonly view: GroupView;
      readonly previous: GroupView;
      readonly removed: readonly number[];
      readonly joined: readonly MemberAddress[];
      readonly stateTransfers: readonly StateTransfer[];
    }
  /** Send the new view (and the transfer table) to joiner `to`; it starts once it has its state. */
  | { readonly kind: 'sendView'; readonly to: MemberAddress; readonly view: GroupView; readonly stateTransfers: readonly StateTransfer[] }
  /**
   * I am the old shard leader: send my state of `subgroup` (as of the view boundary, i.e. NOW) to
   * node `to`, with `hlc`, the shard's last delivered HLC, which the receiver's core continues from.
   */
  | { readonly kind: 'sendState'; readonly subgroup: number; readonly shard: number; readonly to: MemberAddress; readonly vid: number; readonly hlc: Hlc }
  /** I am not the leader: tell the joiner to contact `leader`. */
  | { readonly kind: 'joinRedirect'; readonly to: MemberAddress; readonly leader: MemberAddress }
  | { readonly kind: 'joinRefused'; readonly to: MemberAddress; readonly code: 'idInUse' | 'shuttingDown'; readonly message: string }
  /** Tell joiner `to` why it is not admitted yet (its join stays pending; its timeout error says why). */
  | { readonly kind: 'joinDeferred'; readonly to: MemberAddress; readonly message: string }
  /** The next view cannot be provisioned; the group stays wedged until enough nodes join. */
  | { readonly kind: 'inadequate'; readonly vid: number; readonly message: string }
  /** Own messages of the closing view that could not be re-sent (I am no longer a sender of that subgroup). */
  | { readonly kind: 'sendsDropped'; readonly subgroup: number; readonly count: number }
  /** Stop this node: close connections, fail pending calls with `message`. Nothing follows. */
  | { readonly kind: 'shutdown'; readonly reason: ShutdownReason; readonly message: string };
