import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig, resolveConfig } from '../../src/index.js';

const SECRET = 'correct horse battery staple';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config: loading from files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'derecho-config-'));
    mkdirSync(path.join(dir, 'etc'));
    writeFileSync(path.join(dir, 'etc', 'secret'), `${SECRET}\n`);
    writeFileSync(
      path.join(dir, 'etc', 'layout.json'),
      JSON.stringify([{ type_alias: 'KV', layout: [{ min_nodes_by_shard: ['1'], max_nodes_by_shard: ['3'] }] }]),
    );
    writeFileSync(
      path.join(dir, 'etc', 'cluster.json'),
      JSON.stringify({
        cluster: { secretFile: 'secret', members: [{ id: 0, host: '127.0.0.1', port: 23580 }, { id: 1, host: '127.0.0.1', port: 23581 }] },
        layoutFile: 'layout.json',
        persistence: { dir: '../logs' },
      }),
    );
    writeFileSync(path.join(dir, 'broken.json'), '{\n  "cluster": {\n    "secret": "x"\n  }\n  "node": {}\n}\n');
    writeFileSync(path.join(dir, 'bad-values.json'), JSON.stringify({ cluster: { secret: SECRET, contact: 'a:1' }, multicast: { windowSize: '16' } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the shared file, reads the files it names relative to it, and takes the node id per node', () => {
    const file = path.join(dir, 'etc', 'cluster.json');
    const config = loadConfig({ path: file, argv: ['--node-id', '1'], env: {} });
    expect(config.cluster.secret).to.equal(SECRET);
    expect(config.node).to.deep.equal({ id: 1, host: '127.0.0.1', bindHost: '127.0.0.1', port: 23581, dataDir: path.join(dir, 'etc', '.derecho', 'node-1') });
    expect(config.cluster.contact).to.deep.equal({ host: '127.0.0.1', port: 23580 });
    expect(config.persistence.dir).to.equal(path.join(dir, 'logs'));
    expect(config.layout?.[0].type).to.equal('KV');
    // The file can be named by DERECHO_CONFIG, and --config wins over it.
    expect(loadConfig({ env: { DERECHO_CONFIG: file, DERECHO_NODE_ID: '0' } }).node.port).to.equal(23580);
    expect(() => loadConfig({ argv: ['--config', file], env: { DERECHO_CONFIG: path.join(dir, 'missing.json'), DERECHO_NODE_ID: '0' } })).to.not.throw();
    // resolveConfig: a path or an object.
    expect(resolveConfig(file, { env: { DERECHO_NODE_ID: '0' } }).node.id).to.equal(0);
    expect(resolveConfig({ cluster: { secret: SECRET, contact: 'h:1' } }, { env: { DERECHO_NODE_ID: '4' } }).node.id).to.equal(4);
  });

  it('reports a JSON syntax error with file, line and column', () => {
    const file = path.join(dir, 'broken.json');
    expect(messageOf(() => loadConfig({ path: file, env: {} }))).to.equal(
      `invalid configuration: ${file}:5:3: invalid JSON: unexpected "\\"" in object, expected "," or "}"\n    "node": {}\n    ^`,
    );
  });

  it('reports a missing file, together with bad flags', () => {
    const file = path.join(dir, 'nope.json');
    expect(messageOf(() => loadConfig({ path: file, argv: ['--prot', '1'], env: {} }))).to.equal(
      'invalid configuration (2 problems):\n' +
        '  --prot: unknown option (did you mean "--port"?); options: --config, --set, --node-id, --host, --port, --bind-host, --http-port, --data-dir, --contact, --secret-file, --log-level, --persistence-dir\n' +
        `  ${file}: cannot read the config file: ENOENT: no such file or directory, open '${file}'`,
    );
  });

  it('reports bad values, bad flags and bad environment together, naming the file', () => {
    const file = path.join(dir, 'bad-values.json');
    expect(messageOf(() => loadConfig({ path: file, argv: ['--node-id', 'x', '--bogus'], env: { DERECHO_LOG_LEVEL: 'chatty' } }))).to.equal(
      `invalid configuration in ${file} (4 problems):\n` +
        '  --bogus: unknown option; options: --config, --set, --node-id, --host, --port, --bind-host, --http-port, --data-dir, --contact, --secret-file, --log-level, --persistence-dir\n' +
        '  --node-id (config.node.id): expected a node id (an integer from 0 to 4294967295), got "x"\n' +
        '  config.multicast.windowSize: expected a positive integer, got "16"\n' +
        '  DERECHO_LOG_LEVEL (config.logging.level): expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "chatty"',
    );
  });
});
