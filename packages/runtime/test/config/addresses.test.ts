/**
 * Addresses as operators write them: IPv4 addresses and host names pass validation, IPv6 and
 * malformed hosts are refused at once naming the key; names resolve when the node starts; a
 * separate bind address; and a group formed over host names and a wildcard bind address.
 */
import { expect } from 'chai';
import { ConfigError } from '../../src/index.js';
import { loadConfig, resolveAddresses, validateConfig } from '../../src/config/index.js';
import { Group } from '../../src/replicated/group.js';
import { shards } from '../../src/layout/constructors.js';
import { freeLoopbackPorts } from '../../src/bench/local-ports.js';

const SECRET = 'correct horse battery staple';

function issuesOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('config: addresses', () => {
  it('accepts host names and IPv4 addresses everywhere a host goes', () => {
    const config = validateConfig({
      cluster: { secret: SECRET, members: [{ id: 0, host: 'db-0.db.default.svc.cluster.local', port: 4000 }, { id: 1, host: '10.0.0.2' }] },
      node: { id: 0, bindHost: '0.0.0.0' },
    });
    expect(config.node.host).to.equal('db-0.db.default.svc.cluster.local');
    expect(config.node.bindHost).to.equal('0.0.0.0');
    expect(config.cluster.contact).to.deep.equal({ host: 'db-0.db.default.svc.cluster.local', port: 4000 });
    const single = validateConfig({ cluster: { secret: SECRET, contact: 'localhost:23580' }, node: { id: 1, host: 'localhost' } });
    expect(single.node.bindHost, 'the bind address defaults to the advertised one').to.equal('localhost');
  });

  it('refuses IPv6 and malformed hosts at once, naming the key and what to give instead', () => {
    const found = issuesOf(() =>
      validateConfig({
        cluster: { secret: SECRET, contact: '[::1]:23580', members: [{ id: 1, host: 'bad host!' }, { id: 2, host: '300.1.2.3' }] },
        node: { id: 1, bindHost: 'fe80::1' },
      }),
    );
    expect(found.some((i) => i.startsWith('config.cluster.contact: "::1" is an IPv6 address') && i.includes('give an IPv4 address or a host name')), found.join('\n')).to.equal(true);
    expect(found.some((i) => i.startsWith('config.cluster.members[0].host: "bad host!" is neither an IPv4 address nor a host name')), found.join('\n')).to.equal(true);
    expect(found.some((i) => i.startsWith('config.cluster.members[1].host: "300.1.2.3" is not a valid IPv4 address')), found.join('\n')).to.equal(true);
    expect(found.some((i) => i.startsWith('config.node.bindHost: "fe80::1" is an IPv6 address')), found.join('\n')).to.equal(true);
  });

  it('takes the bind address from --bind-host or DERECHO_BIND_HOST, and the port from the environment', () => {
    const fromFlag = loadConfig({ argv: ['--node-id', '3', '--contact', 'seed:23580', '--host', 'node-3', '--bind-host', '0.0.0.0'], env: { DERECHO_SECRET: SECRET, DERECHO_PORT: '24000' } });
    expect(fromFlag.node).to.include({ host: 'node-3', bindHost: '0.0.0.0', port: 24000 });
    const fromEnv = loadConfig({ argv: [], env: { DERECHO_SECRET: SECRET, DERECHO_NODE_ID: '3', DERECHO_CONTACT: 'seed:23580', DERECHO_BIND_HOST: '0.0.0.0' } });
    expect(fromEnv.node.bindHost).to.equal('0.0.0.0');
    const bad = issuesOf(() => loadConfig({ argv: ['--node-id', '3', '--contact', 'seed:1', '--bind-host', '::'], env: { DERECHO_SECRET: SECRET } }));
    expect(bad.join('\n')).to.include('--bind-host (config.node.bindHost): "::" is an IPv6 address');
  });

  it('resolves every name once, and reports every name that does not resolve with its key', async () => {
    const config = validateConfig({
      cluster: { secret: SECRET, members: [{ id: 0, host: 'seed' }, { id: 1, host: 'node-1' }, { id: 2, host: '10.0.0.3' }] },
      node: { id: 1, bindHost: '0.0.0.0' },
    });
    const asked: string[] = [];
    const table: Record<string, string> = { seed: '10.0.0.1', 'node-1': '10.0.0.2' };
    const resolved = await resolveAddresses(config, async (host) => {
      asked.push(host);
      const address = table[host];
      if (address === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return address;
    });
    expect(resolved.node).to.include({ host: '10.0.0.2', bindHost: '0.0.0.0' });
    expect(resolved.cluster.contact).to.deep.equal({ host: '10.0.0.1', port: 23580 });
    expect(resolved.cluster.members?.map((m) => m.host)).to.deep.equal(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(asked.sort(), 'each name is asked once').to.deep.equal(['node-1', 'seed']);

    const err = await rejection(resolveAddresses(config, async (host) => Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }))));
    expect(err).to.be.instanceOf(ConfigError);
    const issues = (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    expect(issues).to.include('config.node.host: cannot resolve "node-1" to an IPv4 address: no such host (or it has no IPv4 address); check the name, or give an IPv4 address');
    expect(issues.some((i) => i.startsWith('config.cluster.contact: cannot resolve "seed"'))).to.equal(true);
  });

  describe('a group over host names (in-process members over loopback)', function () {
    this.timeout(30_000);
    const groups: Group[] = [];
    afterEach(async () => {
      await Promise.all(groups.splice(0).map((g) => g.close()));
    });

    it('forms a group whose contact and hosts are names, one member listening on every interface', async () => {
      const ports = await freeLoopbackPorts(2);
      const config = (id: number) => ({
        cluster: { secret: SECRET, contact: `localhost:${ports[0]}` },
        node: { id, host: 'localhost', port: ports[id], ...(id === 1 ? { bindHost: '0.0.0.0' } : {}) },
        failure: { heartbeatMs: 50, failureTimeoutMs: 2000 },
        logging: { level: 'silent' },
      });
      const subgroups = [{ name: 'stream', layout: shards({ minNodes: 2 }) }];
      const joined = await Promise.all([0, 1].map((id) => Group.join({ argv: [], config: config(id), subgroups })));
      groups.push(...joined);
      expect(joined[1].view.members.map((m) => `${m.id}@${m.host}:${m.port}`)).to.deep.equal([`0@127.0.0.1:${ports[0]}`, `1@127.0.0.1:${ports[1]}`]);
      expect(joined[1].config.node.bindHost).to.equal('0.0.0.0');
    });

    it('fails at once, naming the key, when a name does not resolve (no join timeout)', async () => {
      const started = Date.now();
      const err = await rejection(
        Group.join({
          argv: [],
          config: { cluster: { secret: SECRET, contact: 'no-such-host.invalid:23580' }, node: { id: 1 }, logging: { level: 'silent' } },
          subgroups: [{ name: 'stream', layout: shards({ minNodes: 1 }) }],
          joinTimeoutMs: 60_000,
        }),
      );
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include('config.cluster.contact: cannot resolve "no-such-host.invalid" to an IPv4 address');
      expect(Date.now() - started, 'well before the join timeout').to.be.below(30_000);
    });
  });
});
