/**
 * Invariant checks for the protocol core, in the TigerBeetle manner: a violated invariant is a
 * programming or protocol error, so it crashes loudly with the invariant's name instead of letting
 * replicas silently diverge.
 */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`invariant violated: ${invariant}: ${detail}`);
  }
}

/**
 * Throws InvariantViolation naming `invariant` when `condition` is false. `detail` is a function so
 * the message (often a string built from state) costs nothing on the hot path when the check holds.
 */
export function invariant(condition: boolean, invariant: string, detail: () => string): asserts condition {
  if (!condition) throw new InvariantViolation(invariant, detail());
}
