/**
 * Historical reads between real processes (issue 17 item 1): three members of a persistent
 * DurableKV shard; node 0 writes, then asks every member (itself included) for the object as it
 * was: `p2p(n).at(version)`, `.asOf(hlc)` and `.history({ from, to })` must give the values the
 * writes imply, identical at every replica; a version or time not yet delivered is refused as
 * `notStable`, one retention removed as `trimmed`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freeLoopbackPorts } from '@derecho-ts/runtime/internals';
import { killAll, spawnMember, waitLine, type MemberProcess } from './member-process.js';

const MEMBER = fileURLToPath(new URL('./fixtures/history-member.ts', import.meta.url));
const PUTS = 400;
const RETAIN = 150;

interface NodeResult {
  at: (string | null)[];
  asOf: (string | null)[];
  history: { version: string; hlc: { wallUs: number; logical: number }; value: string | null }[];
  future: string;
  futureTime: string;
  trimmed: string;
  latest: string;
}

describe('historical reads of a replicated object between processes', function () {
  this.timeout(120_000);
  let members: MemberProcess[] = [];
  let root: string;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-history-'));
  });
  after(async () => {
    await killAll(members);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('at / asOf / history answer the past identically at every replica; refusals are typed', async () => {
    const ports = await freeLoopbackPorts(3);
    members = [0, 1, 2].map((id) => spawnMember(MEMBER, { id, ports, dir: path.join(root, `node-${id}`), puts: PUTS, retainVersions: RETAIN }));
    const result = JSON.parse((await waitLine(members[0], (l) => l.startsWith('result '), 100_000, 'node 0\'s result')).slice('result '.length)) as { written: { version: string; hlc: { wallUs: number; logical: number } }[]; perNode: Record<string, NodeResult> };
    const recent = PUTS - 20;
    const valueOf = (key: number, throughPut: number): string | null => {
      for (let j = throughPut; j >= 0; j--) if (j % 10 === key) return `value-${j}`;
      return null;
    };
    expect(Object.keys(result.perNode).sort()).to.deep.equal(['0', '1', '2']);
    for (const [node, r] of Object.entries(result.perNode)) {
      const where = `node ${node}`;
      expect(r.at, where).to.deep.equal(Array.from({ length: 20 }, (_, k) => `value-${recent + k}`));
      expect(r.asOf, where).to.deep.equal(Array.from({ length: 20 }, (_, k) => valueOf((recent + k + 1) % 10, recent + k)));
      expect(r.history.map((e) => e.version), where).to.deep.equal(result.written.slice(recent, recent + 10).map((w) => w.version));
      expect(r.history.map((e) => e.hlc), where).to.deep.equal(result.written.slice(recent, recent + 10).map((w) => w.hlc));
      expect(r.history.map((e) => e.value), where).to.deep.equal(Array.from({ length: 10 }, () => `value-${recent}`));
      expect(r.future, where).to.match(/^notStable: node \d: DurableKV at node \d has not delivered version \d+ yet/);
      expect(r.futureTime, where).to.match(/^notStable: node \d: time .* is not stable yet/);
      expect(r.trimmed, where).to.match(/^trimmed: node \d: .*was trimmed/);
      expect(BigInt(r.latest) >= BigInt(result.written[PUTS - 1].version), where).to.equal(true);
    }
    // Every replica answered the same history.
    const histories = Object.values(result.perNode).map((r) => JSON.stringify(r.history));
    expect(new Set(histories).size).to.equal(1);
  });
});
