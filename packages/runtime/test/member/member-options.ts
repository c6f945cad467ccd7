/** The Member options the member tests share: the contact is node 1, generous deadlines, fast retries. */
import type { MemberOptions } from '../../src/core/member/member.js';
import type { AllocateNextView } from '../../src/core/membership/next-view.js';
import { addr } from '../membership/vm-harness.js';

export const MS = 1000;

/** Options of node `id`; view 0 forms once 2 members joined. */
export function memberOptions(id: number, allocate: AllocateNextView, overrides: Partial<MemberOptions> = {}): MemberOptions {
  return {
    me: addr(id),
    isContact: id === 1,
    contact: { host: addr(1).host, port: addr(1).port },
    allocateFirst: (ids) => (ids.length >= 2 ? allocate(ids, { vid: -1, members: [], subgroups: [] }) : undefined),
    allocateNext: allocate,
    joinTimeoutUs: 30_000 * MS,
    stateTimeoutUs: 30_000 * MS,
    retryUs: 50 * MS,
    joinRetryUs: 2000 * MS,
    joinerConnectTimeoutUs: 5000 * MS,
    stallReportUs: 3000 * MS,
    heartbeatIntervalUs: 1 * MS,
    partitionSafety: true,
    ...overrides,
  };
}
