/** Errors a user of the group API can catch by class. */

// Thrown by rpc too, which must not import this layer: defined there.
export { NotAMemberError } from '../rpc/rpc-errors.js';

/** No subgroup of that name (or index) exists in the group's layout. */
export class UnknownSubgroupError extends Error {
  override readonly name = 'UnknownSubgroupError';
}

/** The group was closed (or left) and can no longer be used. */
export class GroupClosedError extends Error {
  override readonly name = 'GroupClosedError';
}

/**
 * The group is wedged: its next view needs more members than are left (an inadequate layout). It
 * stays wedged until enough nodes join; calls made meanwhile wait for that view.
 */
export class InadequateViewError extends Error {
  override readonly name = 'InadequateViewError';
}
