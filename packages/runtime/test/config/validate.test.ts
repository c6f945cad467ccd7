import { expect } from 'chai';
import { ConfigError, type DerechoConfig } from '../../src/index.js';
import { profileSettings, validateConfig } from '../../src/internals.js';

const SECRET = 'correct horse battery staple';
const minimal = { cluster: { secret: SECRET, contact: '10.0.0.1:23580' }, node: { id: 1 } };

function problems(raw: unknown, options: Parameters<typeof validateConfig>[1] = {}): string[] {
  try {
    validateConfig(raw, { baseDir: '/srv/app', ...options });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    // The message lists every issue too.
    for (const issue of issues) expect((err as Error).message).to.include(`${issue.path}: ${issue.message}`);
    return issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('config: validation', () => {
  it('the gateway section: a port other than the member\'s own, a body limit', () => {
    const config = validateConfig({ ...minimal, gateway: { port: 8080, maxBodyBytes: 4096 } }, { baseDir: '/srv/app' });
    expect(config.gateway).to.deep.equal({ port: 8080, host: '127.0.0.1', maxBodyBytes: 4096 });
    expect(problems({ ...minimal, gateway: { port: 23580 } })).to.deep.equal(["config.gateway.port: 23580 is node.port, the member's own port; give the gateway another one"]);
    expect(problems({ ...minimal, gateway: { port: 0 } })[0]).to.match(/^config\.gateway\.port: expected a port/);
  });

  it('fills every default and resolves paths against the config directory', () => {
    const config = validateConfig(minimal, { baseDir: '/srv/app' });
    const expected: DerechoConfig = {
      cluster: { secret: SECRET, secrets: [SECRET], contact: { host: '10.0.0.1', port: 23580 }, members: undefined },
      node: { id: 1, host: '127.0.0.1', bindHost: '127.0.0.1', port: 23580, dataDir: '/srv/app/.derecho/node-1' },
      multicast: {
        windowSize: 16,
        maxPayloadBytes: 10240,
        maxReplyPayloadBytes: 10240,
        maxSmcPayloadBytes: 10240,
        blockBytes: 262144,
        sendAlgorithm: 'binomial',
        maxP2pRequestBytes: 10240,
        maxP2pReplyBytes: 10240,
        p2pWindowSize: 16,
      },
      profiles: {},
      failure: { heartbeatMs: 100, failureTimeoutMs: 2000, blockedLoopLimitMs: 20000, partitionSafety: true },
      persistence: { enabled: true, dir: '/srv/app/.derecho/node-1/log', fsync: true, retainVersions: undefined, retainSeconds: undefined, retainBytes: undefined },
      logging: { level: 'info', remoteStacks: false },
      ops: { httpPort: undefined, httpHost: '127.0.0.1' },
      gateway: { port: undefined, host: '127.0.0.1', maxBodyBytes: 1048576 },
      layout: undefined,
      security: { tls: undefined },
    };
    expect(config).to.deep.equal(expected);
  });

  it('takes every key given', () => {
    const config = validateConfig(
      {
        $schema: './derecho.schema.json',
        cluster: { secret: SECRET, contact: 'seed.example:4000' },
        node: { id: 4294967295, host: '10.1.1.1', port: 4001, dataDir: 'data/n' },
        multicast: { windowSize: 8, maxPayloadBytes: 1 << 20, maxReplyPayloadBytes: 100, maxSmcPayloadBytes: 4096, blockBytes: 65536, sendAlgorithm: 'chain', maxP2pRequestBytes: 1, maxP2pReplyBytes: 2, p2pWindowSize: 3 },
        profiles: { LARGE: { windowSize: 3, maxPayloadBytes: 102400, blockBytes: 10240 } },
        failure: { heartbeatMs: 1, failureTimeoutMs: 100, blockedLoopLimitMs: 5000, partitionSafety: false },
        persistence: { enabled: false, dir: '/var/lib/derecho', fsync: false, retainVersions: 1000, retainSeconds: 60, retainBytes: 1048576 },
        logging: { level: 'debug' },
        layout: [{ type_alias: 'KV', layout: [{ min_nodes_by_shard: ['2'], max_nodes_by_shard: ['3'], delivery_modes_by_shard: ['Ordered'], profiles_by_shard: ['LARGE'] }] }],
      },
      { baseDir: '/srv/app' },
    );
    expect(config.cluster.contact).to.deep.equal({ host: 'seed.example', port: 4000 });
    expect(config.node).to.deep.equal({ id: 4294967295, host: '10.1.1.1', bindHost: '10.1.1.1', port: 4001, dataDir: '/srv/app/data/n' });
    expect(config.multicast.sendAlgorithm).to.equal('chain');
    expect(config.persistence).to.deep.equal({ enabled: false, dir: '/var/lib/derecho', fsync: false, retainVersions: 1000, retainSeconds: 60, retainBytes: 1048576 });
    expect(config.failure).to.deep.equal({ heartbeatMs: 1, failureTimeoutMs: 100, blockedLoopLimitMs: 5000, partitionSafety: false });
    // A profile is the multicast section with some values replaced.
    expect(config.profiles.LARGE).to.deep.equal({ windowSize: 3, maxPayloadBytes: 102400, maxReplyPayloadBytes: 100, maxSmcPayloadBytes: 4096, blockBytes: 10240, sendAlgorithm: 'chain' });
    expect(profileSettings(config, 'default').windowSize).to.equal(8);
    expect(profileSettings(config, 'LARGE').windowSize).to.equal(3);
    expect(() => profileSettings(config, 'SMALL')).to.throw('unknown multicast profile "SMALL"; defined: default, LARGE');
    expect(config.layout?.[0].layout).to.deep.include({ kind: 'sharded' });
  });

  it('reports every problem at once, each with its key path', () => {
    expect(
      problems({
        cluster: { secret: 'short', contact: '10.0.0.1' },
        node: { id: '1', prot: 4 },
        multicast: { windowSize: '16', maxSmcPayloadBytes: 20000, blockBytes: 0 },
        failure: { heartbeatMs: 100, failureTimeoutMs: 50, partitionSafety: 'yes' },
        persistence: { fsync: 1 },
        logging: { level: 'inof' },
        mutlicast: {},
      }),
    ).to.deep.equal([
      'config.mutlicast: unknown key (did you mean "multicast"?)',
      'config.cluster.secret: expected a string of at least 16 characters, got a string of 5 characters',
      'config.cluster.contact: expected "host:port" with a port from 1 to 65535 (e.g. "10.0.0.1:23580"), got "10.0.0.1"',
      'config.node.prot: unknown key (did you mean "port"?)',
      'config.node.id: expected a node id (an integer from 0 to 4294967295), got "1"',
      'config.multicast.windowSize: expected a positive integer, got "16"',
      'config.multicast.blockBytes: expected a positive integer, got 0',
      'config.multicast.maxSmcPayloadBytes: must be ≤ maxPayloadBytes (10240), got 20000',
      'config.failure.partitionSafety: expected true or false, got "yes"',
      'config.failure.failureTimeoutMs: must be greater than heartbeatMs (100), got 50',
      'config.persistence.fsync: expected true or false, got 1',
      'config.logging.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "inof" (did you mean "info"?)',
    ]);
  });

  it('formats one problem on one line and names the file', () => {
    expect(() => validateConfig({ ...minimal, multicast: { windowSize: '16' } }, { source: 'cluster.json' })).to.throw(
      ConfigError,
      /^invalid configuration in cluster\.json: config\.multicast\.windowSize: expected a positive integer, got "16"$/,
    );
  });

  it('requires a secret, a contact and a node id, and says how to give them', () => {
    expect(problems({})).to.deep.equal([
      'config.cluster.secret: required: set cluster.secret or cluster.secretFile in the file, or the DERECHO_SECRET environment variable',
      'config.cluster.contact: required: the "host:port" of the initial leader or of any member (or list cluster.members)',
      'config.node.id: required: give each node its id with --node-id or DERECHO_NODE_ID (or node.id in a per-node file)',
    ]);
    expect(problems([])).to.deep.equal(['config: expected a JSON object with sections such as "cluster" and "node", got []']);
    expect(problems({ ...minimal, node: 3, logging: [] })).to.deep.equal([
      'config.node: expected an object, got 3',
      'config.node.id: required: give each node its id with --node-id or DERECHO_NODE_ID (or node.id in a per-node file)',
      'config.logging: expected an object, got []',
    ]);
  });

  it('checks value ranges and the heartbeat against the timeout', () => {
    expect(problems({ ...minimal, node: { id: -1, port: 70000, host: '' } })).to.deep.equal([
      'config.node.id: expected a node id (an integer from 0 to 4294967295), got -1',
      'config.node.host: expected an IPv4 address or a host name, got ""',
      'config.node.port: expected a port number (an integer from 1 to 65535), got 70000',
    ]);
    expect(problems({ ...minimal, failure: { heartbeatMs: 5000 } })).to.deep.equal(['config.failure.heartbeatMs: must be less than failureTimeoutMs (2000), got 5000']);
    expect(problems({ ...minimal, multicast: { maxPayloadBytes: 100 } })).to.deep.equal(['config.multicast.maxPayloadBytes: must be ≥ maxSmcPayloadBytes (10240), got 100']);
    expect(problems({ ...minimal, multicast: { windowSize: 1.5, sendAlgorithm: 'binomial_send' } })).to.deep.equal([
      'config.multicast.windowSize: expected a positive integer, got 1.5',
      'config.multicast.sendAlgorithm: expected one of "binomial", "chain", "sequential", "tree", got "binomial_send"',
    ]);
  });

  it('never echoes a secret', () => {
    const [problem] = problems({ ...minimal, cluster: { secret: 'hunter2', contact: 'a:1' } });
    expect(problem).to.equal('config.cluster.secret: expected a string of at least 16 characters, got a string of 7 characters');
    expect(problem).to.not.include('hunter2');
  });

  it('reads secretFile and layoutFile through the injected reader, relative to the config', () => {
    const files: Record<string, string> = {
      '/srv/app/secret.txt': `${SECRET}\n`,
      '/srv/app/conf/layout.json': '[{"type_alias": "KV", "layout": [{"min_nodes_by_shard": ["1"]}]}]',
      '/srv/app/bad.json': '[{"type_alias": "KV",\n  "layout": [{"min_nodes_by_shard": ["1"],}]}]',
      '/srv/app/short.txt': 'abc\n',
    };
    const readFile = (p: string): string => {
      const text = files[p];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return text;
    };
    const config = validateConfig({ cluster: { secretFile: 'secret.txt', contact: 'a:1' }, node: { id: 0 }, layoutFile: 'conf/layout.json' }, { baseDir: '/srv/app', readFile });
    expect(config.cluster.secret).to.equal(SECRET);
    expect(config.layout?.map((e) => e.type)).to.deep.equal(['KV']);

    expect(problems({ cluster: { secretFile: 'nope.txt', contact: 'a:1' }, node: { id: 0 }, layoutFile: 'bad.json' }, { readFile })).to.deep.equal([
      `config.cluster.secretFile: cannot read "/srv/app/nope.txt": ENOENT: no such file or directory, open '/srv/app/nope.txt'`,
      'config.layoutFile: bad.json:2:42: invalid JSON: trailing comma before "}"\n    "layout": [{"min_nodes_by_shard": ["1"],}]}]\n                                           ^',
    ]);
    expect(problems({ cluster: { secretFile: 'short.txt', contact: 'a:1' }, node: { id: 0 } }, { readFile })).to.deep.equal([
      'config.cluster.secretFile: the secret in "/srv/app/short.txt" must be at least 16 characters, it has 3',
    ]);
    expect(problems({ cluster: { secret: SECRET, secretFile: 'secret.txt', contact: 'a:1' }, node: { id: 0 }, layout: [], layoutFile: 'x.json' }, { readFile })).to.deep.equal([
      'config.cluster.secretFile: give cluster.secret or cluster.secretFile, not both',
      'config.layoutFile: give layout or layoutFile, not both',
    ]);
    // Given as an object without a reader: say how to fix it.
    expect(problems({ cluster: { secretFile: 'secret.txt', contact: 'a:1' }, node: { id: 0 } })).to.deep.equal([
      'config.cluster.secretFile: refers to a file (/srv/app/secret.txt) but this configuration was given as an object; load it with loadConfig() or give the value inline',
    ]);
    // Layout errors in a layout file are named by the file.
    files['/srv/app/l2.json'] = '[{"layout": [{"min_nodes_by_shard": ["3"], "max_nodes_by_shard": ["2"]}]}]';
    expect(problems({ ...minimal, layoutFile: 'l2.json' }, { readFile })).to.deep.equal(['l2.json[0].layout[0].max_nodes_by_shard[0]: must be ≥ minNodes (3), got 2']);
  });

  it('static membership: node host and port come from the member list, which must be consistent', () => {
    const members = [
      { id: 0, host: '10.0.0.1', port: 4000 },
      { id: 1, host: '10.0.0.2' },
    ];
    const config = validateConfig({ cluster: { secret: SECRET, members }, node: { id: 1 } });
    expect(config.node).to.include({ id: 1, host: '10.0.0.2', port: 23580 });
    expect(config.cluster.contact).to.deep.equal({ host: '10.0.0.1', port: 4000 });
    expect(config.cluster.members).to.deep.equal([
      { id: 0, host: '10.0.0.1', port: 4000 },
      { id: 1, host: '10.0.0.2', port: 23580 },
    ]);
    expect(
      problems({
        cluster: { secret: SECRET, members: [...members, { id: 0, host: '10.0.0.1', port: 4000, name: 'x' }, { host: 'h' }, 7] },
        node: { id: 5 },
      }),
    ).to.deep.equal([
      'config.cluster.members[2].name: unknown key',
      'config.cluster.members[2].id: duplicate id 0 (also cluster.members[0])',
      'config.cluster.members[2]: duplicate address 10.0.0.1:4000 (also cluster.members[0])',
      'config.cluster.members[3].id: required',
      'config.cluster.members[4]: expected { "id", "host", "port" }, got 7',
      'config.node.id: node 5 is not in cluster.members (ids: 0, 1, 0)',
    ]);
    expect(problems({ cluster: { secret: SECRET, members }, node: { id: 0, port: 4001 } })).to.deep.equal([
      'config.node.port: 4001 differs from cluster.members[0].port (4000)',
    ]);
    expect(problems({ cluster: { secret: SECRET, members: [] }, node: { id: 0 } })).to.deep.equal([
      'config.cluster.members: expected a non-empty array of { "id", "host", "port" }, got []',
    ]);
  });

  it('checks the layout: JSON shape, profiles it names, and whether the static members can provision it', () => {
    expect(
      problems({
        ...minimal,
        profiles: { LARGE: { windowSize: 3, maxP2pRequestBytes: 4, widowSize: 2 }, Default: {}, SMALL: 5 },
        layout: [{ type_alias: 'Foo', layout: [{ min_nodes_by_shard: ['1'], profiles_by_shard: ['LARGEE'] }] }],
      }),
    ).to.deep.equal([
      'config.profiles.LARGE.maxP2pRequestBytes: not a per-profile setting; set it in the multicast section',
      'config.profiles.LARGE.widowSize: unknown key (did you mean "windowSize"?)',
      'config.profiles.Default: the default profile is the multicast section itself; set these values there',
      'config.profiles.SMALL: expected an object of multicast settings, got 5',
      'config.layout[0].layout[0].profiles_by_shard[0]: unknown profile "LARGEE"; define it under "profiles" (defined: LARGE) (did you mean "LARGE"?)',
    ]);
    expect(problems({ ...minimal, layout: { Foo: 1 } })).to.deep.equal(['config.layout: expected an array with one entry per replicated type, got {"Foo":1}']);
    expect(
      problems({
        cluster: { secret: SECRET, members: [{ id: 0, host: 'a' }, { id: 1, host: 'b' }] },
        node: { id: 0 },
        layout: [{ layout: [{ min_nodes_by_shard: [2, 1] }] }],
      }),
    ).to.deep.equal(['config.layout: cluster.members lists 2 nodes but the layout needs at least 3, so the group could never start']);
    // Reserved ids shared by two subgroups count once: two members suffice.
    const overlapping = validateConfig({
      cluster: { secret: SECRET, members: [{ id: 1, host: 'a' }, { id: 2, host: 'b' }] },
      node: { id: 1 },
      layout: [
        { type_alias: 'A', layout: [{ min_nodes_by_shard: [2], reserved_node_ids_by_shard: [['*1', '2']] }] },
        { type_alias: 'B', layout: [{ minNodesByShard: [2], reservedNodeIdsByShard: [[1, 2]] }] },
      ],
    });
    expect(overlapping.layout?.map((e) => e.type)).to.deep.equal(['A', 'B']);
  });
});
