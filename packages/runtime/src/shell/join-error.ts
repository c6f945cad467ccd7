/** Joining (or forming) the group failed, or the node was closed or stopped while it joined. */
export class JoinError extends Error {
  override readonly name = 'JoinError';
}
