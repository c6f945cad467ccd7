/**
 * What the operator endpoints (metrics, status) read from a running member: its events and
 * read-only getters. The driver's GroupNode has this shape; ops/ names it here instead of
 * importing the driver (only the composition root, replicated/group.ts, wires the two).
 */
import type { DeliverOutput } from '../core/core-io.js';
import type { GroupView } from '../core/membership/group-view.js';
import type { ViewChange } from '../core/membership/view-change.js';
import type { ViewManager } from '../core/membership/view-manager.js';

export type ObservedProtocol = Pick<ViewManager, 'phase' | 'suspectedIds' | 'stallReason' | 'core' | 'view' | 'vid' | 'myRank'>;

export interface ObservedNodeEvents {
  view: [ViewChange];
  deliver: [DeliverOutput];
  peerFailed: [{ nodeId: number; reason: string }];
  progress: [];
  shutdown: [{ reason: string; message: string }];
}

export interface ObservedNode {
  readonly nodeId: number;
  readonly view: GroupView | undefined;
  readonly protocol: ObservedProtocol | undefined;
  /** Set while the next view cannot be provisioned (the group waits, wedged, for more members). */
  readonly inadequateReason: string | undefined;
  queuedSends(subgroup: number): number;
  on<E extends keyof ObservedNodeEvents>(event: E, listener: (...args: ObservedNodeEvents[E]) => void): unknown;
  off<E extends keyof ObservedNodeEvents>(event: E, listener: (...args: ObservedNodeEvents[E]) => void): unknown;
}
