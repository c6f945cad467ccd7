/**
 * Inputs and outputs of a `Member`: one node of the group from its start to its shutdown (group
 * formation, the joiner side, every view change). Multicast inputs and outputs are the multicast
 * core's (`../core-io.ts`), membership ones the view manager's (`../membership/membership-io.ts`);
 * what is added here is what the view manager left to its drivers: talking to joiners and
 * leaders, connecting to peers, creating each view's table, moving state.
 */
import type { CoreOutput } from '../core-io.js';
import type { Hlc } from '../hlc.js';
import type { GroupView, MemberAddress } from '../membership/group-view.js';
import type { MembershipInput, MembershipOutput } from '../membership/membership-io.js';
import type { Version } from '../version.js';
import type { ControlMessage } from './control-messages.js';
import type { RestartState } from './restart-state.js';

/** Membership inputs a running member passes on to its view manager. */
type RunningInput = Exclude<MembershipInput, { kind: 'joinRequest' } | { kind: 'viewTableReady' } | { kind: 'tick' }>;

export type MemberInput =
  | RunningInput
  /** Periodically, from the start (joins time out and retry on it; the view manager heartbeats on it). */
  | { readonly kind: 'tick'; readonly nowUs: number }
  /**
   * The node starts: the leader forms the group, a joiner dials the contact. With `restart` (the
   * node has logs of an earlier run: its restart log and field logs, see restart-state.ts) it
   * neither forms nor dials: it finds the running group or the restart leader (total restart).
   */
  | { readonly kind: 'start'; readonly nowUs: number; readonly restart?: RestartState }
  /** A control message arrived from node `from` (already decoded and validated). */
  | { readonly kind: 'control'; readonly from: number; readonly message: ControlMessage }
  /** The handshake of a connection with `node` completed (dialed by either side). */
  | { readonly kind: 'connected'; readonly node: number }
  /**
   * The dial of the contact failed: `final` when the contact refused us for good (wrong secret,
   * build or version, id in use), otherwise it may just not listen yet and is dialed again.
   */
  | { readonly kind: 'contactUnreachable'; readonly final: boolean; readonly reason: string }
  /** The table of view `vid` asked for by `createTable` exists and is initialized. */
  | { readonly kind: 'tableReady'; readonly vid: number; readonly table: ArrayBuffer };

/** What a member passes on from its view manager unchanged. */
type PassedOutput = Extract<MembershipOutput, { kind: 'logTrim' | 'inadequate' | 'sendsDropped' | 'sendState' }> | CoreOutput;

/**
 * Why a node stopped: `removed` by the others, `partitioned` (on the minority side of a
 * partition), `left` (it asked to), or `failed` (it could not carry out the protocol: a state
 * source that never answered, an output its driver could not carry out).
 */
export type MemberShutdownReason = 'partitioned' | 'removed' | 'left' | 'failed';

export type MemberOutput =
  | PassedOutput
  /** Send `message` to node `to` (a connection exists or is being made by a `connect` output). */
  | { readonly kind: 'sendControl'; readonly to: number; readonly message: ControlMessage }
  /** Dial the contact address (its node id is learned from the handshake: a `connected` input). */
  | { readonly kind: 'dialContact' }
  /** Open connections to these members (answered by `connected` inputs, or `peerFailed`). */
  | { readonly kind: 'connect'; readonly peers: readonly MemberAddress[] }
  /**
   * Close the connections to these nodes. `misbehaved`: the peer broke the protocol (an error to
   * log); otherwise the drop is routine (removed from the group, a contact that does not answer).
   */
  | { readonly kind: 'dropPeers'; readonly nodes: readonly number[]; readonly reason: string; readonly misbehaved?: boolean }
  /**
   * The closing view delivered its trim; this node installs `view` next (the view manager's
   * `installView`, for logs and observers: the member carries it out itself).
   */
  | (Omit<Extract<MembershipOutput, { kind: 'installView' }>, 'kind'> & { readonly kind: 'installing' })
  /** Allocate and initialize the table of `view` (initializeSstTable), then input `tableReady`. */
  | { readonly kind: 'createTable'; readonly view: GroupView }
  /** Install `state` (from `sendState` of the old shard leader) in this node's replica of `subgroup`. */
  | { readonly kind: 'installState'; readonly view: GroupView; readonly subgroup: number; readonly state: Uint8Array | null }
  /**
   * A view runs here: the first one (`first`: formation or the join is done) or the next one after
   * a view change. The table exists; deliveries of this view follow.
   */
  | { readonly kind: 'viewStarted'; readonly view: GroupView; readonly removed: readonly number[]; readonly joined: readonly MemberAddress[]; readonly first: boolean }
  /**
   * Total restart: drop the versions of this shard's field logs after `afterVersion`, durably,
   * before carrying out the next output (they were never delivered everywhere).
   */
  | { readonly kind: 'truncateLog'; readonly subgroup: number; readonly shard: number; readonly afterVersion: Version }
  /**
   * Total restart: read the records of this shard's field logs after `afterVersion` through
   * `throughVersion` (after the truncation output before it) and send them to node `to` as a
   * `logTail` control message of restart view `vid`.
   */
  | { readonly kind: 'sendLogTail'; readonly to: number; readonly vid: number; readonly subgroup: number; readonly shard: number; readonly afterVersion: Version; readonly throughVersion: Version }
  /**
   * Total restart: append these records (a `logTail` message's `tail`: the versions after
   * `afterVersion` through `throughVersion`) to this shard's field logs, durably, before carrying
   * out the next output.
   */
  | { readonly kind: 'appendLogTail'; readonly subgroup: number; readonly shard: number; readonly afterVersion: Version; readonly throughVersion: Version; readonly tail: Uint8Array }
  /** Joining failed; the node is stopped (nothing follows). */
  | { readonly kind: 'joinFailed'; readonly message: string }
  /** Something worth a log line (the protocol's own progress and waits). */
  | { readonly kind: 'note'; readonly level: 'debug' | 'info' | 'warn'; readonly message: string }
  /** The node stops; always last, nothing follows. */
  | { readonly kind: 'shutdown'; readonly reason: MemberShutdownReason; readonly message: string };

/** The state that came with a shard (from `sendState` of its old leader). */
export interface ReceivedState {
  readonly state: Uint8Array | null;
  readonly hlc: Hlc;
}
