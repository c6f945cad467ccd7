/**
 * The two ways a layout goes wrong: the layout itself is malformed (a user error, found before any
 * view exists), or a view has too few members to provision it (a normal state of a live group: the
 * group stays wedged until enough nodes join, as Derecho's `subgroup_provisioning_exception`).
 */

/** One problem in a layout spec: where it is (`path`) and what is wrong there. */
export interface LayoutIssue {
  readonly path: string;
  readonly message: string;
}

export function formatIssue(issue: LayoutIssue): string {
  return `${issue.path}: ${issue.message}`;
}

/** A malformed layout spec. Lists every problem found, not only the first. */
export class LayoutSpecError extends Error {
  override readonly name = 'LayoutSpecError';
  constructor(readonly issues: readonly LayoutIssue[]) {
    super(
      issues.length === 1
        ? `invalid subgroup layout: ${formatIssue(issues[0])}`
        : `invalid subgroup layout (${issues.length} problems):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
    );
  }
}

/**
 * A view cannot provision every shard with its minimum number of members. Not a bug: the view is
 * "inadequate", is never installed, and the group stays wedged until membership changes.
 */
export class InadequateLayoutError extends Error {
  override readonly name = 'InadequateLayoutError';
  constructor(
    /** Distinct nodes the smallest allocation needs (reserved ids present count once). */
    readonly nodesNeeded: number,
    /** Members of the view that was offered. */
    readonly nodesAvailable: number,
    /** The shards that did not already hold their minimum from survivors and reserved ids. */
    readonly shortShards: readonly string[],
  ) {
    super(
      `inadequate view: the subgroup layout needs at least ${nodesNeeded} nodes but the view has ${nodesAvailable}` +
        (shortShards.length > 0 ? ` (shards still to fill: ${shortShards.join(', ')})` : '') +
        '; the group stays wedged until more nodes join',
    );
  }
}
