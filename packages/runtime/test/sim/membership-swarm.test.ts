import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GroupView } from '../../src/core/membership/group-view.js';
import { CheckFailure } from '../../src/sim/checkers.js';
import { MembershipChecker } from '../../src/sim/membership-checker.js';
import { generateMembershipScenario, MembershipSeedFailure, runMembershipSeed } from '../../src/sim/membership-swarm.js';

const SEEDS = Number(process.env.DERECHO_MEMBERSHIP_SEEDS ?? 1000);
const FIRST_SEED = Number(process.env.DERECHO_MEMBERSHIP_FIRST_SEED ?? 1);

describe('sim/membership-swarm: view changes under crashes, joins, leaves, pauses and partitions', function () {
  this.timeout(600_000);

  it(`passes ${SEEDS} seeds (DERECHO_MEMBERSHIP_SEEDS=N for more, DERECHO_MEMBERSHIP_FIRST_SEED to shift)`, () => {
    const failures: string[] = [];
    const total = { installs: 0, deliveries: 0, joiners: 0, rejoins: 0, partitioned: 0, removed: 0, left: 0, inadequate: 0, adopted: 0, multiView: 0, outsideLeaderInstalls: 0, movedIntoShard: 0 };
    const faults = new Map<string, number>();
    let maxSettleUs = 0;
    const started = performance.now();
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      try {
        const r = runMembershipSeed(seed);
        const s = generateMembershipScenario(seed);
        for (const f of s.faults) faults.set(f.kind, (faults.get(f.kind) ?? 0) + 1);
        total.installs += r.installs;
        total.deliveries += r.deliveries;
        total.joiners += r.joinerStarts;
        total.rejoins += r.rejoins;
        total.partitioned += r.shutdowns.partitioned;
        total.removed += r.shutdowns.removed;
        total.left += r.shutdowns.left;
        total.inadequate += r.inadequateReports;
        total.adopted += r.adopted;
        total.outsideLeaderInstalls += r.outsideLeaderInstalls;
        total.movedIntoShard += r.movedIntoShard;
        if (r.maxVid >= 2) total.multiView++;
        if (r.installs > 0) maxSettleUs = Math.max(maxSettleUs, r.lastInstallUs - s.faults[s.faults.length - 1].atUs);
      } catch (e) {
        const msg = e instanceof MembershipSeedFailure ? e.message : `seed ${seed}: ${String(e)}`;
        console.error(msg);
        failures.push(msg);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`      membership swarm: ${SEEDS} seeds in ${seconds.toFixed(1)}s: ${JSON.stringify(total)}; faults ${JSON.stringify(Object.fromEntries(faults))}; latest install ${maxSettleUs}us after the last fault`);
    expect(failures, failures.join('\n')).to.deep.equal([]);
    // The swarm really covers what it claims to.
    expect(total.installs).to.be.greaterThan(SEEDS);
    expect(total.multiView).to.be.greaterThan(SEEDS / 10);
    expect(total.joiners).to.be.greaterThan(0);
    expect(total.rejoins, 'removed nodes restarted and joined again under their old id').to.be.greaterThan(0);
    expect(total.partitioned).to.be.greaterThan(0);
    expect(total.removed).to.be.greaterThan(0);
    expect(total.left).to.be.greaterThan(0);
    expect(total.inadequate).to.be.greaterThan(0);
    expect(total.adopted, 'a new leader adopted a failed leader\'s batch').to.be.greaterThan(0);
    expect(total.outsideLeaderInstalls, 'a leader that holds no shard led a view change (issue 10)').to.be.greaterThan(SEEDS / 20);
    expect(total.movedIntoShard, 'members moved into shards and received their state').to.be.greaterThan(SEEDS / 20);
    for (const kind of ['crash', 'crashLeader', 'crashLeaderChain', 'crashShardLeader', 'crashDuringChange', 'crashDuringTrim', 'falseSuspicion', 'pause', 'shortPause', 'partition', 'join', 'leave']) {
      expect(faults.get(kind) ?? 0, kind).to.be.greaterThan(0);
    }
  });

  it('replays a seed exactly: same trace, same figures', () => {
    const a: string[] = [];
    const b: string[] = [];
    const ra = runMembershipSeed(97, { trace: (l) => a.push(l) });
    const rb = runMembershipSeed(97, { trace: (l) => b.push(l) });
    expect(ra).to.deep.equal(rb);
    expect(ra.installs).to.be.greaterThan(0);
    expect(a).to.deep.equal(b);
  });

  it('replay.ts --membership reruns one seed from the command line', () => {
    const script = fileURLToPath(new URL('../../src/sim/replay.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', script, '--membership', '--seed', '2'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^membership seed 2: /m);
    expect(r.stdout).to.match(/ install view 1 /);
    expect(r.stdout).to.match(/^PASS membership seed 2:/m);
  });

  describe('the checker catches', () => {
    const params = { windowSize: 4, maxPayloadBytes: 64, maxSmcPayloadBytes: 64, blockBytes: 1024 };
    const addr = (id: number) => ({ id, host: `10.0.0.${id}`, port: 7000 });
    const view = (vid: number, ids: number[]): GroupView => ({
      vid,
      members: ids.map(addr),
      subgroups: [{ type: 'T', index: 0, shards: [{ members: ids, senders: ids.map(() => true), mode: 'ordered' }], params }],
    });
    const allocate = (ids: readonly number[]) => view(0, [...ids]).subgroups;
    const install = (prev: GroupView, next: GroupView, removed: number[], joined: number[]) => ({ kind: 'installView' as const, view: next, previous: prev, removed, joined: joined.map(addr), stateTransfers: [] });

    it('two different views with the same vid', () => {
      const v0 = view(0, [1, 2, 3]);
      const c = new MembershipChecker(v0, allocate);
      c.onInstall(1, install(v0, view(1, [1, 2]), [3], []), new Map());
      expect(() => c.onInstall(3, install(v0, view(1, [1, 3]), [2], []), new Map())).to.throw(CheckFailure, /never two different views with the same vid/);
    });

    it('a view change that keeps only a minority', () => {
      const v0 = view(0, [1, 2, 3, 4]);
      const c = new MembershipChecker(v0, allocate);
      expect(() => c.onInstall(1, install(v0, view(1, [1, 2]), [3, 4], []), new Map())).to.throw(CheckFailure, /keeps a majority/);
    });

    it('survivors out of order and different trimmed prefixes', () => {
      const v0 = view(0, [1, 2, 3]);
      const c = new MembershipChecker(v0, allocate);
      expect(() => c.onInstall(1, install(v0, view(1, [2, 1]), [3], []), new Map())).to.throw(CheckFailure, /survivors keep their order/);
      const d = new MembershipChecker(v0, allocate);
      d.onInstall(1, install(v0, view(1, [1, 2]), [3], []), new Map([[0, 5]]));
      d.onInstall(2, install(v0, view(1, [1, 2]), [3], []), new Map([[0, 4]]));
      expect(() => d.checkTrims()).to.throw(CheckFailure, /same trimmed prefix/);
    });

    it('a joiner whose state differs from the shard leader\'s at the boundary', () => {
      const v0 = view(0, [1, 2]);
      const c = new MembershipChecker(v0, allocate);
      const v1 = view(1, [1, 2, 3]);
      c.onInstall(1, install(v0, v1, [], [3]), new Map());
      c.onViewStart(1, v1, new Map([[0, 42]]), false);
      expect(() => c.onViewStart(3, v1, new Map([[0, 7]]), true)).to.throw(CheckFailure, /state at the view boundary/);
    });
  });
});
