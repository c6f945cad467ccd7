/**
 * The restart state a member reads from its disk: the restart log's view and trims, and each held
 * shard's newest version and HLC (what the Member's total restart takes with `start`).
 */
import { expect } from 'chai';
import { hlc, HLC_ZERO } from '../../src/core/hlc.js';
import { makeVersion, INVALID_VERSION } from '../../src/core/version.js';
import { msgpackCodec } from '../../src/persistent/codec.js';
import { PersistentRegistry } from '../../src/persistent/registry.js';
import { readRestartState } from '../../src/persistent/restart-input.js';
import { RestartLog } from '../../src/persistent/restart-log.js';
import { groupView } from '../membership/vm-harness.js';
import { makeTempDir, removeDir } from './helpers.js';

describe('persistent: the restart state read from disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('restart-input');
  });
  afterEach(() => removeDir(dir));

  it('holds the last view, its trims, and per shard the newest version and HLC every field holds', async () => {
    const log = RestartLog.open(dir, { fsync: false });
    const identity = { cluster: 'c', schema: 's' };
    const registry = new PersistentRegistry({ dir, subgroup: 0, shard: 0, log: { fsync: false } });
    try {
      expect(readRestartState(log.read(), [{ subgroup: 0, shard: 0, registry }], identity)).to.equal(undefined);
      await log.appendView({ ...groupView([1, 2]), vid: 4 });
      await log.appendTrim({ vid: 4, subgroup: 0, shard: 0, shardLeader: 1, throughIndex: [2, 1] });
      const a = registry.persistent('a', () => 0, { codec: msgpackCodec<number>() });
      const b = registry.persistent('b', () => '', { codec: msgpackCodec<string>() });
      expect(registry.latestTime).to.deep.equal(HLC_ZERO);
      for (let seq = 0; seq < 3; seq++) {
        a.current = seq;
        b.current = `v${seq}`;
        registry.version(makeVersion(4, seq), hlc(1000 + seq, 1));
      }
      registry.persist();
      const state = readRestartState(log.read(), [{ subgroup: 0, shard: 0, registry }], identity)!;
      expect(state.view.vid).to.equal(4);
      expect(state.trims).to.deep.equal([{ vid: 4, subgroup: 0, shard: 0, shardLeader: 1, throughIndex: [2, 1] }]);
      expect(state.logs).to.deep.equal([{ subgroup: 0, shard: 0, newestVersion: makeVersion(4, 2), newestHlc: hlc(1002, 1) }]);
      // A restart truncates after the agreed trim: the newest version and HLC follow.
      registry.truncate(makeVersion(4, 0));
      expect(registry.latestVersion).to.equal(makeVersion(4, 0));
      expect(registry.latestTime).to.deep.equal(hlc(1000, 1));
      registry.truncate(INVALID_VERSION);
      expect(registry.latestTime).to.deep.equal(HLC_ZERO);
    } finally {
      registry.close();
      await log.close();
    }
  });
});
