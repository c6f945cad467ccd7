/**
 * Consistent cuts across shards between real processes (issue 17 item 2): five members, Accounts
 * in two shards; two writers post the legs of transfers between the shards, with one effective
 * time per transfer; a reader takes `group.snapshot(t)` cuts of both shards while they run, reading
 * every replica; the test kills a member in the middle (a view change under the reads). Checked:
 * - each cut's answer for a shard is exactly the state as of its instant: the sum of the legs on
 *   that shard whose version's HLC is at or before the instant (and effective by then);
 * - every replica of a shard gives the same answer for the same cut;
 * - no cut sees one leg of a transfer without the other (for every transfer whose legs were both
 *   delivered before its effective time), so the total over the shards never changes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { compareHlc, type Hlc } from '@derecho-ts/runtime';
import { freeLoopbackPorts } from '@derecho-ts/runtime/internals';
import { killAll, spawnMember, waitLine, type MemberProcess } from './member-process.js';

const MEMBER = fileURLToPath(new URL('./fixtures/ledger-member.ts', import.meta.url));
const TRANSFERS = 120;
const SPACING_MS = 20;

interface Leg {
  i: number;
  amount: number;
  effectiveUs: number;
  sentUs: number;
  hlc: Hlc;
}

interface Cut {
  t: Hlc;
  totals: (number | null)[][];
  viaAny: number[];
}

describe('consistent cuts across shards (group.snapshot) between processes', function () {
  this.timeout(150_000);
  let members: MemberProcess[] = [];
  let root: string;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'derecho-snapshot-'));
  });
  after(async () => {
    await killAll(members);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('every cut sees the state as of its instant at every replica, both legs of a transfer or neither, through a member failure', async () => {
    const ports = await freeLoopbackPorts(5);
    members = [0, 1, 2, 3, 4].map((id) => spawnMember(MEMBER, { id, ports, root, transfers: TRANSFERS, spacingMs: SPACING_MS }));
    const viewLine = await waitLine(members[0], (l) => l.startsWith('view '), 60_000, 'the first view');
    const shardMembers = JSON.parse(viewLine.slice('view '.length)) as number[][];
    const big = shardMembers.findIndex((m) => m.length === 3);
    const small = 1 - big;
    expect(big, `a shard of 3 members in ${viewLine}`).to.be.at.least(0);
    const readerId = shardMembers[small][1];
    const victim = shardMembers[big][2];
    const writers = [shardMembers[0][0], shardMembers[1][0]];

    // Kill a replica of the three-member shard in the middle of the transfers.
    const baseFile = path.join(root, 'base');
    const deadline = Date.now() + 60_000;
    while (!(fs.existsSync(baseFile) && fs.readFileSync(baseFile, 'utf8').endsWith('\n')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const baseUs = Number(fs.readFileSync(baseFile, 'utf8').trim());
    await new Promise((r) => setTimeout(r, Math.max(0, (baseUs - Date.now() * 1000) / 1000 + (TRANSFERS * SPACING_MS) / 2)));
    members[victim].child.kill('SIGKILL');

    const legs = await Promise.all(
      writers.map(async (w, shard) => {
        const text = await waitLine(members[w], (l) => l.startsWith(`legs ${shard} `), 90_000, `writer ${w}'s legs`);
        return JSON.parse(text.slice(`legs ${shard} `.length)) as Leg[];
      }),
    );
    const cutsLine = await waitLine(members[readerId], (l) => l.startsWith('cuts '), 90_000, `reader ${readerId}'s cuts`);
    const cuts = JSON.parse(cutsLine.slice('cuts '.length)) as Cut[];
    expect(cuts.length, 'cuts taken').to.be.at.least(20);
    expect(members[readerId].lines.some((l) => l.startsWith('view-change ')), 'the reader saw the view change of the failure').to.equal(true);

    const expectedTotal = (shard: number, t: Hlc): number => legs[shard].filter((l) => compareHlc(l.hlc, t) <= 0 && l.effectiveUs <= t.wallUs).reduce((sum, l) => sum + l.amount, 0);
    // Transfers both of whose legs were delivered before their effective time: a cut counts both or neither.
    const whole = new Set(legs[0].filter((l) => l.i >= 0 && l.hlc.wallUs < l.effectiveUs).map((l) => l.i).filter((i) => legs[1].some((m) => m.i === i && m.hlc.wallUs < m.effectiveUs)));
    // Legs go out a second ahead of their effective time; on a very busy machine a few may still be late.
    expect(whole.size, 'transfers delivered before their effective time').to.be.at.least(TRANSFERS / 4);
    let afterKill = 0;
    for (const cut of cuts) {
      for (const shard of [0, 1]) {
        const expected = expectedTotal(shard, cut.t);
        expect(cut.viaAny[shard], `shard ${shard} as of ${cut.t.wallUs}.${cut.t.logical}`).to.equal(expected);
        for (const answer of cut.totals[shard]) if (answer !== null) expect(answer, `a replica of shard ${shard} as of ${cut.t.wallUs}`).to.equal(expected);
      }
      for (const i of whole) {
        const seen = [0, 1].map((shard) => legs[shard].some((l) => l.i === i && compareHlc(l.hlc, cut.t) <= 0 && l.effectiveUs <= cut.t.wallUs));
        expect(seen[0], `transfer ${i} in the cut at ${cut.t.wallUs}: debit seen ${seen[0]}, credit seen ${seen[1]}`).to.equal(seen[1]);
      }
      if (cut.totals[big].includes(null)) afterKill++;
    }
    expect(afterKill, 'cuts read while a replica was gone').to.be.at.least(1);
  });
});
