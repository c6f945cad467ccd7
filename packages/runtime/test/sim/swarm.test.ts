import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CheckFailure, MulticastChecker } from '../../src/sim/checkers.js';
import { HLC_ZERO } from '../../src/core/hlc.js';
import { generateScenario, runSwarmSeed, SwarmSeedFailure } from '../../src/sim/swarm.js';

const SEEDS = Number(process.env.DERECHO_SWARM_SEEDS ?? 1000);
const FIRST_SEED = Number(process.env.DERECHO_SWARM_FIRST_SEED ?? 1);

describe('sim/swarm: seeded runs of the real core under the invariant checkers', function () {
  this.timeout(600_000);

  it(`passes ${SEEDS} seeds (DERECHO_SWARM_SEEDS=N for more, DERECHO_SWARM_FIRST_SEED to shift)`, () => {
    const failures: string[] = [];
    let deliveries = 0;
    let rdmc = 0;
    let paused = 0;
    let multiShard = 0;
    let wedged = 0;
    const modes = new Set<string>();
    const started = performance.now();
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      try {
        const r = runSwarmSeed(seed);
        deliveries += r.deliveries;
        rdmc += r.rdmcSends;
        const s = generateScenario(seed);
        if (s.pauses.length > 0) paused++;
        if (s.wedges.length > 0) wedged++;
        if (s.view.subgroups.some((g) => g.shards.length > 1)) multiShard++;
        for (const g of s.view.subgroups) for (const sh of g.shards) modes.add(sh.mode);
      } catch (e) {
        // Print the seed and its replay command; keep going to report every failing seed.
        const msg = e instanceof SwarmSeedFailure ? e.message : `seed ${seed}: ${String(e)}`;
        console.error(msg);
        failures.push(msg);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`      swarm: ${SEEDS} seeds in ${seconds.toFixed(1)}s, ${deliveries} deliveries, ${rdmc} RDMC sends, ${paused} runs with pauses, ${wedged} wedged mid-traffic, ${multiShard} with sharded subgroups`);
    expect(failures, failures.join('\n')).to.deep.equal([]);
    // The swarm really covers what it claims to.
    expect(rdmc).to.be.greaterThan(0);
    expect(paused).to.be.greaterThan(0);
    expect(wedged).to.be.greaterThan(0);
    expect(multiShard).to.be.greaterThan(0);
    expect([...modes].sort()).to.deep.equal(['ordered', 'persistent', 'unordered']);
  });

  it('replays a seed exactly: same trace, same figures', () => {
    const a: string[] = [];
    const b: string[] = [];
    const ra = runSwarmSeed(12345, { trace: (l) => a.push(l) });
    const rb = runSwarmSeed(12345, { trace: (l) => b.push(l) });
    expect(ra).to.deep.equal(rb);
    expect(a.length).to.be.greaterThan(10);
    expect(a).to.deep.equal(b);
  });

  it('the checker catches a delivery order that differs between replicas', () => {
    const view = { vid: 1, members: [1, 2], subgroups: [{ shards: [{ members: [1, 2], senders: [true, true], mode: 'ordered' as const }], params: { windowSize: 2, maxSmcPayloadBytes: 8, maxPayloadBytes: 8 } }] };
    const c = new MulticastChecker(view);
    const p = Uint8Array.of(1);
    c.onSend(0, 0, 0, p);
    c.onSend(1, 0, 0, p);
    const d = (senderNode: number, version: bigint, logical: number) => ({ kind: 'deliver' as const, subgroup: 0, shard: 0, senderNode, index: 0, version, hlc: { ...HLC_ZERO, logical }, payload: p, cooked: false });
    c.onDeliver(0, d(1, 1n, 1));
    c.onDeliver(0, d(2, 2n, 2));
    expect(() => c.onDeliver(1, d(2, 2n, 2))).to.throw(CheckFailure, /identical delivery order/);
    const fifo = new MulticastChecker(view);
    fifo.onSend(0, 0, 0, p);
    fifo.onSend(0, 0, 1, Uint8Array.of(2));
    expect(() => fifo.onDeliver(1, { ...d(1, 1n, 1), index: 1, payload: Uint8Array.of(2) })).to.throw(CheckFailure, /FIFO per sender/);
  });

  it('replay.ts reruns one seed from the command line', () => {
    const script = fileURLToPath(new URL('../../src/sim/replay.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', script, '--seed', '7'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^seed 7: vid/m);
    expect(r.stdout).to.match(/ deliver g\d/);
    expect(r.stdout).to.match(/^PASS seed 7:/m);
  });
});
