import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { DevPki, devPkiUnavailableReason } from '@derecho-ts/rdma-native';
import { ConfigError } from '../../src/index.js';
import { validateConfig } from '../../src/internals.js';
import { readFileSync } from 'node:fs';

const SECRET = 'correct horse battery staple';
const OTHER = 'a second secret, also long';

function problems(raw: unknown, baseDir: string): string[] {
  try {
    validateConfig(raw, { baseDir, readFile: (p) => readFileSync(p, 'utf8') });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path.replace(/^config\./, '')}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('config: cluster.secrets (rotation)', () => {
  it('takes a list of secrets, the first proven; secret alone is a list of one', () => {
    const c = validateConfig({ cluster: { secrets: [OTHER, SECRET], contact: '10.0.0.1:1' }, node: { id: 1 } });
    expect(c.cluster.secrets).to.deep.equal([OTHER, SECRET]);
    expect(c.cluster.secret).to.equal(OTHER);
    expect(validateConfig({ cluster: { secret: SECRET, contact: '10.0.0.1:1' }, node: { id: 1 } }).cluster.secrets).to.deep.equal([SECRET]);
  });

  it('refuses an empty, too long, short, repeated or doubly given list, never echoing a secret', () => {
    const bad = (secrets: unknown, extra: Record<string, unknown> = {}) => problems({ cluster: { secrets, contact: '10.0.0.1:1', ...extra }, node: { id: 1 } }, '/');
    expect(bad([])).to.deep.equal(['cluster.secrets: expected an array of 1 to 4 secrets, the new one first, got 0 entries']);
    expect(bad([SECRET, OTHER, `${SECRET}3`, `${SECRET}4`, `${SECRET}5`])[0]).to.match(/got 5 entries/);
    expect(bad([SECRET, 'short'])).to.deep.equal(['cluster.secrets[1]: must be a string of at least 16 characters, got 5 characters']);
    expect(bad([SECRET, SECRET])).to.deep.equal(['cluster.secrets[1]: is the same secret as cluster.secrets[0]']);
    expect(bad([SECRET], { secret: SECRET })).to.deep.equal(['cluster.secrets: give cluster.secrets, cluster.secret or cluster.secretFile, only one of them']);
    for (const p of [...bad([SECRET, 'short']), ...bad([SECRET, SECRET])]) expect(p).to.not.include(SECRET);
  });
});

describe('config: security.tls', function () {
  let pki: DevPki | undefined;
  before(function () {
    const why = devPkiUnavailableReason();
    if (why !== undefined) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    pki = new DevPki();
  });
  after(() => pki?.dispose());

  const config = (node: number, tls: unknown) => ({ cluster: { secret: SECRET, contact: '10.0.0.1:1' }, node: { id: node }, security: { tls } });

  it('reads the three PEM files (paths relative to the config file) when they fit together', () => {
    const files = pki!.writeFiles('good', pki!.issue(7));
    const c = validateConfig(config(7, { caFile: 'good-ca.pem', certFile: 'good-cert.pem', keyFile: 'good-key.pem' }), {
      baseDir: pki!.dir,
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    expect(c.security.tls?.certFile).to.equal(files.certFile);
    expect(c.security.tls?.cert).to.match(/BEGIN CERTIFICATE/);
    expect(c.security.tls?.key).to.match(/PRIVATE KEY/);
    expect(validateConfig(config(7, undefined)).security.tls).to.equal(undefined);
  });

  it('names the key and the fix: a missing file, a missing key, a key of another certificate, a certificate for another node', () => {
    pki!.writeFiles('a', pki!.issue(8));
    pki!.writeFiles('b', pki!.issue(9));
    const dir = pki!.dir;
    expect(problems(config(8, { caFile: 'a-ca.pem', certFile: 'nowhere.pem', keyFile: 'a-key.pem' }), dir)).to.deep.equal([
      `security.tls.certFile: cannot read "${dir}/nowhere.pem": ENOENT: no such file or directory, open '${dir}/nowhere.pem'`,
    ]);
    expect(problems(config(8, { caFile: 'a-ca.pem', certFile: 'a-cert.pem' }), dir)).to.deep.equal(['security.tls.keyFile: required: the path of a PEM file']);
    expect(problems(config(8, { caFile: 'a-ca.pem', certFile: 'a-cert.pem', keyFile: 'b-key.pem' }), dir)).to.deep.equal([
      `security.tls.keyFile: the key in ${dir}/b-key.pem does not match the certificate in ${dir}/a-cert.pem; give the key the certificate was issued for`,
    ]);
    expect(problems(config(9, { caFile: 'a-ca.pem', certFile: 'a-cert.pem', keyFile: 'a-key.pem' }), dir)).to.deep.equal([
      `security.tls.certFile: the certificate in ${dir}/a-cert.pem is for node 8, but this is node 9: issue it with the subjectAltName URI derecho:node:9`,
    ]);
    writeFileSync(`${dir}/junk.pem`, 'not a certificate\n');
    const junk = problems(config(8, { caFile: 'junk.pem', certFile: 'a-cert.pem', keyFile: 'a-key.pem', extra: 1 }), dir);
    expect(junk[0]).to.equal('security.tls.extra: unknown key');
    expect(junk[1]).to.match(new RegExp(`^security.tls.caFile: ${dir}/junk.pem is not a PEM certificate: `));
  });
});
