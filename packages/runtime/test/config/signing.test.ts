/**
 * `persistence.signing`: key files read relative to the config, parsed as Ed25519 PEM, each
 * problem reported at its key path with what to do.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/validate.js';

const minimal = { cluster: { secret: 'a-secret-of-16-chars', contact: '10.0.0.1:23580' }, node: { id: 1 } };
const pem = (k: KeyObject, type: 'pkcs8' | 'spki'): string => String(k.export({ type, format: 'pem' }));
const one = generateKeyPairSync('ed25519');
const two = generateKeyPairSync('ed25519');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const files: Record<string, string> = {
  '/srv/app/keys/1.pem': pem(one.privateKey, 'pkcs8'),
  '/srv/app/keys/1.pub': pem(one.publicKey, 'spki'),
  '/srv/app/keys/2.pub': pem(two.publicKey, 'spki'),
  '/srv/app/keys/ec.pem': pem(ec.privateKey, 'pkcs8'),
  '/srv/app/keys/junk.pem': 'not a key',
};
const readFile = (p: string): string => {
  if (files[p] === undefined) throw new Error(`ENOENT: no such file, open '${p}'`);
  return files[p];
};

function problems(signing: unknown): string[] {
  try {
    validateConfig({ ...minimal, persistence: { signing } }, { baseDir: '/srv/app', readFile });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('config: persistence.signing', () => {
  it('loads this node\'s private key and the members\' public keys (its own derived when not listed)', () => {
    const config = validateConfig({ ...minimal, persistence: { signing: { privateKeyFile: 'keys/1.pem', publicKeyFiles: { 2: 'keys/2.pub' } } } }, { baseDir: '/srv/app', readFile });
    const signing = config.persistence.signing!;
    expect(signing.privateKeyFile).to.equal('/srv/app/keys/1.pem');
    expect(signing.privateKey.asymmetricKeyType).to.equal('ed25519');
    expect([...signing.publicKeys.keys()].sort()).to.deep.equal([1, 2]);
    expect(signing.publicKeys.get(1)!.equals(one.publicKey)).to.equal(true);
    expect(validateConfig(minimal, { baseDir: '/srv/app' }).persistence.signing).to.equal(undefined);
  });

  it('names each problem and what to do', () => {
    expect(problems({ publicKeyFiles: {} })).to.deep.equal(["config.persistence.signing.privateKeyFile: required: this node's Ed25519 private key (PEM), which signs its logs"]);
    expect(problems({ privateKeyFile: 'keys/junk.pem' })[0]).to.match(/^config\.persistence\.signing\.privateKeyFile: "\/srv\/app\/keys\/junk\.pem" holds no PEM private key .*openssl genpkey -algorithm ed25519/);
    expect(problems({ privateKeyFile: 'keys/ec.pem' })).to.deep.equal(['config.persistence.signing.privateKeyFile: "/srv/app/keys/ec.pem" holds an ec key; log signatures use Ed25519 keys']);
    expect(problems({ privateKeyFile: 'keys/none.pem' })[0]).to.match(/^config\.persistence\.signing\.privateKeyFile: cannot read "\/srv\/app\/keys\/none\.pem"/);
    expect(problems({ privateKeyFile: 'keys/1.pem', publicKeyFiles: { 1: 'keys/2.pub', x: 'keys/2.pub' } })).to.deep.equal([
      'config.persistence.signing.publicKeyFiles.x: "x" is not a node id (an integer from 0 to 4294967295)',
      'config.persistence.signing.publicKeyFiles.1: is not the public key of "/srv/app/keys/1.pem" (this node\'s private key): the others could not verify this node\'s logs',
    ]);
    expect(problems({ privateKeyFile: 'keys/1.pem', publicKeyFile: 'keys/1.pub' })[0]).to.match(/^config\.persistence\.signing\.publicKeyFile: unknown key/);
    expect(problems('keys/1.pem')[0]).to.match(/^config\.persistence\.signing: expected \{ "privateKeyFile"/);
  });
});
