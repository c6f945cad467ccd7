import { expect } from 'chai';
import { ConfigError } from '../../src/index.js';
import { applyOverrides, closestKey, envOverrides, parseConfigArgs, validateConfig } from '../../src/internals.js';

const SECRET = 'correct horse battery staple';

describe('config: flags and environment', () => {
  it('parses node flags in both spellings, --config and --set', () => {
    const parsed = parseConfigArgs(['--node-id', '3', '--port=4001', '--config', 'c.json', '--set', 'multicast.windowSize=32', '--set=failure.partitionSafety=false']);
    expect(parsed.issues).to.deep.equal([]);
    expect(parsed.configPath).to.equal('c.json');
    expect(parsed.overrides).to.deep.equal([
      { path: 'node.id', value: '3', label: '--node-id' },
      { path: 'node.port', value: '4001', label: '--port' },
      { path: 'multicast.windowSize', value: '32', label: '--set multicast.windowSize' },
      { path: 'failure.partitionSafety', value: 'false', label: '--set failure.partitionSafety' },
    ]);
  });

  it('refuses unknown flags (with a suggestion), missing values, and the secret on the command line', () => {
    const { issues } = parseConfigArgs(['--node_id', '3', '--port', '--secret', 'hunter2hunter2hunter2', '--set', 'multicast.windowsize=4', '--set', 'nokey', 'stray', '--host']);
    expect(issues.map((i) => `${i.path}: ${i.message}`)).to.deep.equal([
      '--node_id: unknown option (did you mean "--node-id"?); options: --config, --set, --node-id, --host, --port, --bind-host, --http-port, --data-dir, --contact, --secret-file, --log-level, --persistence-dir',
      '--port: expected a value after it',
      '--secret: the cluster secret is not accepted on the command line (other users can read it with ps); use DERECHO_SECRET, --secret-file or cluster.secret in the file',
      '--set multicast.windowsize: unknown key "multicast.windowsize" (did you mean "multicast.windowSize"?)',
      '--set nokey: expected <key.path>=<value>, e.g. --set multicast.windowSize=32',
      'stray: unexpected argument',
      '--host: expected a value after it',
    ]);
    expect(issues.map((i) => i.message).join('\n')).to.not.include('hunter2');
    expect(parseConfigArgs(['--set', `cluster.secret=${SECRET}`]).issues[0].message).to.match(/^the cluster secret is not accepted on the command line/);
  });

  it("from a whole command line (others: 'ignore'), takes the configuration flags and leaves the program's own", () => {
    const parsed = parseConfigArgs(['--verbose', '--node-id', '2', 'serve', '--workers', '4', '--set=multicast.windowSize=8', '--secret', 'app-own'], { others: 'ignore' });
    expect(parsed.issues).to.deep.equal([]);
    expect(parsed.overrides).to.deep.equal([
      { path: 'node.id', value: '2', label: '--node-id' },
      { path: 'multicast.windowSize', value: '8', label: '--set multicast.windowSize' },
    ]);
    // A configuration flag without its value is still a mistake.
    expect(parseConfigArgs(['--node-id'], { others: 'ignore' }).issues).to.deep.equal([{ path: '--node-id', message: 'expected a value after it' }]);
  });

  it('reads DERECHO_* variables; empty counts as unset', () => {
    expect(envOverrides({ DERECHO_NODE_ID: '7', DERECHO_SECRET: SECRET, DERECHO_PORT: '', DERECHO_CONFIG: '/etc/d.json', HOME: '/root' })).to.deep.equal({
      configPath: '/etc/d.json',
      overrides: [
        { path: 'node.id', value: '7', label: 'DERECHO_NODE_ID' },
        { path: 'cluster.secret', value: SECRET, label: 'DERECHO_SECRET' },
      ],
    });
  });

  it('precedence: flag > environment > file > default', () => {
    const file = { cluster: { secret: SECRET, contact: 'a:1' }, node: { id: 1, port: 5000 }, logging: { level: 'warn' } };
    const env = envOverrides({ DERECHO_NODE_ID: '2', DERECHO_PORT: '6000', DERECHO_LOG_LEVEL: 'error' }).overrides;
    const flags = parseConfigArgs(['--node-id', '3']).overrides;
    const merged = applyOverrides(file, [...env, ...flags]);
    const config = validateConfig(merged.raw, { labels: merged.labels });
    expect(config.node.id).to.equal(3); // flag over env over file
    expect(config.node.port).to.equal(6000); // env over file
    expect(config.logging.level).to.equal('error');
    expect(config.multicast.windowSize).to.equal(16); // default
    // The file object itself is not modified.
    expect(file.node).to.deep.equal({ id: 1, port: 5000 });
    // Without a file, flags and environment alone can configure a node.
    const bare = applyOverrides(undefined, [
      ...envOverrides({ DERECHO_SECRET: SECRET, DERECHO_CONTACT: '127.0.0.1:23580' }).overrides,
      ...parseConfigArgs(['--node-id=0', '--set', 'failure.partitionSafety=off']).overrides,
    ]);
    const fromFlags = validateConfig(bare.raw, { labels: bare.labels });
    expect(fromFlags.cluster.contact).to.deep.equal({ host: '127.0.0.1', port: 23580 });
    expect(fromFlags.failure.partitionSafety).to.equal(false);
  });

  it('a higher layer choosing the secret (or secret file) replaces the lower layer\'s choice', () => {
    const file = { cluster: { secretFile: '/nonexistent', contact: 'a:1' }, node: { id: 1 } };
    const merged = applyOverrides(file, envOverrides({ DERECHO_SECRET: SECRET }).overrides);
    expect(validateConfig(merged.raw, { labels: merged.labels }).cluster.secret).to.equal(SECRET);
  });

  it('errors name the flag or variable a bad value came from', () => {
    const file = { cluster: { secret: SECRET, contact: 'a:1' }, node: { id: 1 } };
    const merged = applyOverrides(file, [
      ...envOverrides({ DERECHO_NODE_ID: 'seven', DERECHO_LOG_LEVEL: 'loud' }).overrides,
      ...parseConfigArgs(['--port', '99999', '--set', 'failure.partitionSafety=maybe', '--set', 'multicast.windowSize=1.5']).overrides,
    ]);
    let error: unknown;
    try {
      validateConfig(merged.raw, { labels: merged.labels });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`)).to.deep.equal([
      'DERECHO_NODE_ID (config.node.id): expected a node id (an integer from 0 to 4294967295), got "seven"',
      '--port (config.node.port): expected a port number (an integer from 1 to 65535), got 99999',
      '--set multicast.windowSize (config.multicast.windowSize): expected a positive integer, got "1.5"',
      '--set failure.partitionSafety (config.failure.partitionSafety): expected true or false, got "maybe"',
      'DERECHO_LOG_LEVEL (config.logging.level): expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "loud"',
    ]);
  });

  it('suggests only plausible typos', () => {
    expect(closestKey('windowsize', ['windowSize', 'blockBytes'])).to.equal('windowSize');
    expect(closestKey('window_size', ['windowSize'])).to.equal('windowSize');
    expect(closestKey('prot', ['port', 'host'])).to.equal('port');
    expect(closestKey('colour', ['windowSize', 'blockBytes'])).to.equal(undefined);
  });
});
