/**
 * What a call's promises reject with, as types: a rejection in TypeScript is `any`, so the reply
 * promises of ordered and p2p calls are typed `CallPromise<T>`, whose `catch`/`then` hand the
 * handler a `CallError`; in `try { await ... } catch (e)` use `isCallError(e)` to narrow.
 *
 * Errors that are the caller's mistake are not rejections: they are thrown at the call
 * (`NotAMemberError` for an ordered call from outside the shard, `InvalidNodeError` for a p2p call
 * to a node outside it, `TypeError` for a method that is not `@Ordered()`/`@P2P()`).
 */
import { HistoricalReadError, NodeRemovedError, RemoteError, SenderRemovedError } from './rpc-errors.js';

/**
 * Why a reply did not come:
 * - `RemoteError`: the remote handler threw (its name and message, and the node);
 * - `NodeRemovedError`: the node failed or left before it replied;
 * - `SenderRemovedError`: this node left (or closed the group) before the reply came;
 * - `HistoricalReadError` (historical reads only): the replica cannot answer as of that point.
 */
export type CallError = RemoteError | NodeRemovedError | SenderRemovedError | HistoricalReadError;

/** Whether `error` is one of the documented call errors (narrows a `catch (e)` clause). */
export function isCallError(error: unknown): error is CallError {
  return error instanceof RemoteError || error instanceof NodeRemovedError || error instanceof SenderRemovedError || error instanceof HistoricalReadError;
}

/**
 * A promise of a call's result whose rejection handlers receive a `CallError`. At run time it is
 * an ordinary Promise; the type records which errors the runtime rejects it with.
 */
export interface CallPromise<T> extends Promise<T> {
  then<A = T, B = never>(onfulfilled?: ((value: T) => A | PromiseLike<A>) | null, onrejected?: ((reason: CallError) => B | PromiseLike<B>) | null): Promise<A | B>;
  catch<B = never>(onrejected?: ((reason: CallError) => B | PromiseLike<B>) | null): Promise<T | B>;
}
