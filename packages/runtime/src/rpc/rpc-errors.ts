/** The per-node failures of an RPC call (reference §2.9), catchable by class. */

/** The remote handler threw: carries the original error's name and message. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  /**
   * `cause` is the handler's error as far as it crossed the wire: an Error with its name and
   * message, and its stack when the replicas send stacks (config `logging.remoteStacks`).
   */
  declare readonly cause: Error;
  constructor(
    /** The node whose handler threw. */
    readonly nodeId: number,
    /** `name` of the error the handler threw (e.g. 'RangeError'). */
    readonly remoteName: string,
    /** `message` of the error the handler threw. */
    readonly remoteMessage: string,
    /** The handler's stack, when the replica sends stacks (`logging.remoteStacks`). */
    readonly remoteStack?: string,
  ) {
    const remote = new Error(remoteMessage);
    remote.name = remoteName;
    remote.stack = remoteStack ?? `${remoteName}: ${remoteMessage}\n    (node ${nodeId} sends no stacks; set logging.remoteStacks there)`;
    super(`node ${nodeId}: ${remoteName}: ${remoteMessage}`, { cause: remote });
  }
}

/** The node failed or left before it replied. */
export class NodeRemovedError extends Error {
  override readonly name = 'NodeRemovedError';
  constructor(
    readonly nodeId: number,
    reason: string,
  ) {
    super(`node ${nodeId} was removed from the group before it replied: ${reason}`);
  }
}

/** This node is not in any shard of the subgroup it tried to use as a member. */
export class NotAMemberError extends Error {
  override readonly name = 'NotAMemberError';
}

/** The caller itself left the group (or closed it) before the replies came. */
export class SenderRemovedError extends Error {
  override readonly name = 'SenderRemovedError';
}

/** A p2p call named a node that is not a member of the target shard in the current view. */
export class InvalidNodeError extends Error {
  override readonly name = 'InvalidNodeError';
}

/** Bytes on the RPC channel that do not parse: the peer sending them is dropped. */
export class RpcWireError extends Error {
  override readonly name = 'RpcWireError';
}

/**
 * Why a historical read (`at`, `asOf`, `history`) was refused:
 * - `notStable`: the replica has not delivered that version or instant yet, so the state there
 *   may still change (read an earlier point, or retry once it has);
 * - `trimmed`: retention removed it (the replica keeps a newer range; see the field's retention);
 * - `notFound`: the object has no version at or before it (or keeps no history: no versioned fields).
 */
export type HistoricalRefusal = 'notStable' | 'trimmed' | 'notFound';

/** A replica refused a historical read; `reason` says why, the message says what it holds. */
export class HistoricalReadError extends Error {
  override readonly name = 'HistoricalReadError';
  constructor(
    /** The replica that refused. */
    readonly nodeId: number,
    readonly reason: HistoricalRefusal,
    message: string,
  ) {
    super(`node ${nodeId}: ${message}`);
  }
}

/** The historical refusal a replica's error stands for, by the name it crossed the wire with. */
export function historicalRefusal(remoteName: string): HistoricalRefusal | undefined {
  switch (remoteName) {
    case 'NotStableError':
    case 'VersionNotStableError':
      return 'notStable';
    case 'VersionTrimmedError':
    case 'TimeTrimmedError':
      return 'trimmed';
    case 'VersionNotFoundError':
    case 'NoVersionAtTimeError':
      return 'notFound';
    default:
      return undefined;
  }
}

/**
 * Thrown at the replicas (and so seen by the caller as a RemoteError of this name) for a retried
 * exactly-once call that cannot be answered with its original result: the client had already
 * acknowledged it, or its result was lost; the call is not applied again.
 */
export class DuplicateCallError extends Error {
  override readonly name = 'DuplicateCallError';
}
