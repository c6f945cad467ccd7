/**
 * A throw-away cluster PKI for tests and benchmarks (`bench ... --tls`), made with the `openssl`
 * command (node:crypto cannot issue X.509 certificates): a cluster CA, then node certificates
 * carrying a node id as the subjectAltName URI `derecho:node:<id>` (what the native layer reads),
 * valid or already expired. Callers skip or refuse, saying why, when `openssl` is not installed.
 * Not for production certificates: keys are unencrypted in a temporary directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NodeCredentials {
  /** PEM of the node's certificate. */
  cert: string;
  /** PEM of its private key. */
  key: string;
  /** PEM of the cluster CA (the same for every node of one TestPki). */
  ca: string;
}

/** Why TLS tests cannot run here, or undefined when they can. */
export function devPkiUnavailableReason(): string | undefined {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'the openssl command is not installed (apt-get install openssl); it makes the test certificates';
}

export class DevPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'derecho-dev-pki-'));
  readonly ca: string;
  private serial = 0;

  constructor() {
    this.openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', this.path('ca.key'),
      '-out', this.path('ca.pem'), '-days', '2', '-subj', '/CN=derecho-test-ca']);
    this.ca = readFileSync(this.path('ca.pem'), 'utf8');
  }

  /**
   * A certificate for `nodeId` (its SAN URI; `undefined`: no node id at all) signed by this CA.
   * `expired`: its validity ended yesterday.
   */
  issue(nodeId: number | undefined, opts: { expired?: boolean } = {}): NodeCredentials {
    const name = `n${++this.serial}`;
    this.openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', this.path(`${name}.key`),
      '-out', this.path(`${name}.csr`), '-subj', `/CN=${name}`]);
    writeFileSync(this.path(`${name}.ext`), nodeId === undefined ? 'basicConstraints=CA:FALSE\n' : `subjectAltName=URI:derecho:node:${nodeId}\n`);
    this.openssl(['x509', '-req', '-in', this.path(`${name}.csr`), '-CA', this.path('ca.pem'), '-CAkey', this.path('ca.key'),
      '-set_serial', String(1000 + this.serial), '-days', opts.expired ? '-1' : '2', '-extfile', this.path(`${name}.ext`),
      '-out', this.path(`${name}.pem`)]);
    return { cert: readFileSync(this.path(`${name}.pem`), 'utf8'), key: readFileSync(this.path(`${name}.key`), 'utf8'), ca: this.ca };
  }

  /** Writes credentials to files (for configurations that take paths); returns the paths. */
  writeFiles(name: string, c: NodeCredentials): { caFile: string; certFile: string; keyFile: string } {
    const paths = { caFile: this.path(`${name}-ca.pem`), certFile: this.path(`${name}-cert.pem`), keyFile: this.path(`${name}-key.pem`) };
    writeFileSync(paths.caFile, c.ca);
    writeFileSync(paths.certFile, c.cert);
    writeFileSync(paths.keyFile, c.key, { mode: 0o600 });
    return paths;
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}
