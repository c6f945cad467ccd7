/**
 * Exactly-once ordered calls between real processes (issue 14 item 2): a retried call with the
 * same (client, sequence) is applied once and answered with the original reply, from the same
 * member or another; an acknowledged call is refused rather than applied again; the table stays
 * bounded over 100,000 calls that acknowledge; a member that joins later receives the table with
 * the state and answers a retry of an earlier call with its original reply.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freeLoopbackPorts } from '@derecho-ts/runtime/internals';
import { killAll, spawnMember, waitLine, type MemberProcess } from './member-process.js';

const MEMBER = fileURLToPath(new URL('./fixtures/exactly-once-member.ts', import.meta.url));
const CALLS = 100_000;

const parsed = async <T>(m: MemberProcess, tag: string, timeoutMs: number): Promise<T> => {
  const text = await waitLine(m, (l) => l.startsWith(`${tag} `), timeoutMs, `'${tag}'`);
  return JSON.parse(text.slice(tag.length + 1)) as T;
};

describe('exactly-once ordered calls between processes', function () {
  this.timeout(240_000);
  const members: MemberProcess[] = [];
  let root: string;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-once-'));
  });
  after(async () => {
    await killAll(members);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('retries apply once with the original reply, from any member and at a joiner; the table stays bounded', async () => {
    const ports = await freeLoopbackPorts(4);
    const roles = ['caller', 'retrier', 'idle'] as const;
    members.push(...roles.map((role, id) => spawnMember(MEMBER, { id, role, ports, root, calls: CALLS })));

    type Put = { version: string; previous?: string };
    const first = await parsed<{ first: Record<string, Put>; retry: Record<string, Put> }>(members[0], 'first', 90_000);
    expect(Object.keys(first.first).sort(), 'every member replied to the first put').to.deep.equal(['0', '1', '2']);
    const original = first.first['0'];
    expect(original.previous, 'the first put found no value').to.equal(undefined);
    expect(first.retry, 'a retry from the same member: the same replies, no new version, no previous value').to.deep.equal(first.first);

    const elsewhere = await parsed<Record<string, Put>>(members[1], 'retry-elsewhere', 60_000);
    expect(elsewhere, 'a retry from another member: the original replies').to.deep.equal(first.first);
    const acked = await parsed<{ refused?: { name: string; remoteName?: string; message: string }; value: string }>(members[1], 'acknowledged-retry', 60_000);
    expect(acked.refused?.remoteName).to.equal('DuplicateCallError');
    expect(acked.refused?.message).to.match(/already acknowledged/);
    expect(acked.value, 'the refused retry did not apply again').to.equal('b');

    const bulk = await parsed<{ calls: number; ms: number; maxEntries: number; heapBefore: number; heapAfter: number; samples: { entries: number; heapUsed: number }[]; size: number }>(members[0], 'bulk', 180_000);
    expect(bulk.size, 'each call applied once: k, the bulk keys, other').to.equal(CALLS + 2);
    // Acknowledgements keep the table at about the calls in flight (256), whatever the count.
    expect(bulk.maxEntries).to.be.at.most(300);
    for (const s of bulk.samples) expect(s.entries).to.be.at.most(300);
    console.log(`      ${CALLS} exactly-once calls in ${bulk.ms} ms; table at most ${bulk.maxEntries} entries; heap ${(bulk.heapBefore / 1e6).toFixed(1)} -> ${(bulk.heapAfter / 1e6).toFixed(1)} MB`);

    const last = await parsed<{ seq: number; key: string; value: string; reply: Put }>(members[0], 'last', 10_000);
    const joiner = spawnMember(MEMBER, { id: 3, role: 'joiner', ports, root, calls: CALLS, last: { seq: last.seq, key: last.key, value: last.value } });
    members.push(joiner);
    const joined = await parsed<{ members: number[]; retry: Record<string, Put>; table: { entries: number; clients: number }; size: number }>(joiner, 'joiner', 90_000);
    expect(joined.members).to.include(3);
    expect(Object.keys(joined.retry).sort()).to.deep.equal(['0', '1', '2', '3']);
    for (const [node, reply] of Object.entries(joined.retry)) expect(reply, `node ${node}'s answer to the retry of the last call`).to.deep.equal(last.reply);
    expect(joined.table.entries, 'the joiner received the table with the state').to.be.at.least(1);
    expect(joined.size, 'the retry did not apply again at the joiner').to.equal(CALLS + 2);
  });
});
