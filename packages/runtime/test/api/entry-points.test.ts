/**
 * `@derecho-ts/runtime` is the application API; the protocol core, the SST, the simulator and the
 * test/benchmark helpers are in `@derecho-ts/runtime/internals` only.
 */
import { expect } from 'chai';
import * as api from '@derecho-ts/runtime';
import * as internals from '@derecho-ts/runtime/internals';

describe('entry points', () => {
  it('the public entry point holds what an application uses', () => {
    const wanted = [
      'Group',
      'Replicated',
      'Ordered',
      'P2P',
      'Persistent',
      'Volatile',
      'currentVersion',
      'defineWireSchema',
      'shards',
      'customShards',
      'loadConfig',
      'ConfigError',
      'RemoteError',
      'NodeRemovedError',
      'SenderRemovedError',
      'JoinError',
      'PersistentError',
      'VersionNotFoundError',
      'formatVersion',
      'formatHlc',
      'hlc',
    ];
    expect(Object.keys(api)).to.include.members(wanted);
  });

  it('internals are not in the public entry point, and are in /internals', () => {
    const internal = ['SstTable', 'SstLayout', 'MulticastCore', 'ShardMulticast', 'PredicateEngine', 'SimCluster', 'SimNetwork', 'Prng', 'EventQueue', 'MulticastChecker', 'runSwarmSeed', 'SchemaCodec', 'PersistentRegistry', 'FileLog', 'validateConfig', 'SubgroupAllocator', 'runLocalMulticast', 'freeLoopbackPorts', 'parseCommand', 'invariant'];
    const leaked = internal.filter((name) => name in api);
    expect(leaked, 'internals exported from @derecho-ts/runtime').to.deep.equal([]);
    expect(Object.keys(internals)).to.include.members(internal);
  });
});
