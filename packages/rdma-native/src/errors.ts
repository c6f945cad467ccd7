/** Errors the fabric facade throws. */

export class FabricError extends Error {
  override name = 'FabricError';
}

/** The endpoint was used after close(). */
export class EndpointClosedError extends FabricError {
  override name = 'EndpointClosedError';
  constructor(what: string) {
    super(`${what}: the endpoint is closed`);
  }
}

/** A message was addressed to a peer with no established connection. */
export class NotConnectedError extends FabricError {
  override name = 'NotConnectedError';
  constructor(readonly nodeId: number) {
    super(`no connection to node ${nodeId}`);
  }
}

/** waitFor/waitConnected gave up. */
export class FabricTimeoutError extends FabricError {
  override name = 'FabricTimeoutError';
}

/** A peer failed (its connection broke or it missed a completion deadline) while we waited on it. */
export class PeerFailedError extends FabricError {
  override name = 'PeerFailedError';
  constructor(
    readonly nodeId: number,
    readonly reason: string,
  ) {
    super(`node ${nodeId} failed: ${reason}`);
  }
}

/** The native data plane could not be loaded (not built). */
export class AddonLoadError extends FabricError {
  override name = 'AddonLoadError';
}
