import { expect } from 'chai';
import { DevPki, devPkiUnavailableReason, type NodeCredentials } from '../src/dev-pki.js';
import { WorkerPool, type Worker, type WorkerEvent } from './helpers/workers.js';

const logMatching = (re: RegExp) => (e: WorkerEvent) => e.event === 'log' && re.test(String(e.message));
const failureOf = (node: number) => (e: WorkerEvent) => e.event === 'failure' && e.nodeId === node;

describe('TLS between endpoints (tcp provider, security.tls)', function () {
  this.timeout(90_000);
  const pool = new WorkerPool();
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
  afterEach(() => pool.killAll());

  const tlsOf = (c: NodeCredentials) => ({ ca: c.ca, cert: c.cert, key: c.key });

  async function member(nodeId: number, open: Record<string, unknown>): Promise<{ w: Worker; port: number }> {
    const w = await pool.spawn(`node${nodeId}`);
    const r = await w.request('open', { nodeId, ...open });
    return { w, port: r.port as number };
  }

  /** Dials `to` from `from`, expecting a refusal: resolves when `from` reports the failure. */
  async function dialRefused(from: { w: Worker }, to: { port: number }, toId: number): Promise<WorkerEvent> {
    const dial = from.w.request('connect', { peers: [{ nodeId: toId, port: to.port }], timeoutMs: 20_000 }, 30_000).then(
      () => 'connected',
      () => 'failed',
    );
    const f = await from.w.waitEvent(failureOf(toId), 20_000, `failure of the dial to node ${toId}`);
    expect(await dial).to.equal('failed');
    return f;
  }

  it('forms a group of 3 processes over TLS: SST writes and RDMC messages arrive', async () => {
    const ids = [1, 2, 3];
    const ms = await Promise.all(ids.map((id) => member(id, { tls: tlsOf(pki!.issue(id)) })));
    await Promise.all(
      ms.map((m, i) => m.w.request('connect', { peers: ids.filter((_, j) => j !== i).map((id, _k) => ({ nodeId: id, port: ms[ids.indexOf(id)].port })) })),
    );
    const rows = await Promise.all(ms.map((m) => m.w.request('sstRows', { regionId: 5, members: ids })));
    for (const r of rows) for (const id of ids) expect((r.rows as Record<string, number[]>)[id][0]).to.equal((id * 31) & 255);
    await Promise.all(ms.map((m) => m.w.request('createRdmc', { groupId: 3, members: ids, blockBytes: 64 * 1024 })));
    const sizes = [0, 1000, 5 * 1024 * 1024 + 17];
    const sent = await ms[0].w.request('rdmcSend', { groupId: 3, sizes });
    for (const m of ms.slice(1)) {
      const got = await m.w.request('rdmcWait', { groupId: 3, count: sizes.length, timeoutMs: 60_000 }, 70_000);
      expect((got.messages as { sha256: string }[]).map((x) => x.sha256)).to.deep.equal(sent.sums);
    }
    const tlsErrors = (w: Worker) => w.events.filter((e) => e.event === 'log' && e.level === 'error' && /TLS|certificate/.test(String(e.message)));
    for (const m of ms) expect(tlsErrors(m.w)).to.deep.equal([]);
  });

  it('refuses a member whose certificate carries another node id (log lines name both ids)', async () => {
    const a = await member(21, { tls: tlsOf(pki!.issue(21)) });
    const impostor = await member(22, { tls: tlsOf(pki!.issue(25)) });
    // The impostor dials: the acceptor compares the claimed id with the certificate.
    const f = await dialRefused(impostor, a, 21);
    expect(String(f.reason)).to.match(/certificate does not match the claimed node id/);
    await a.w.waitEvent(logMatching(/claims node id 22 but its certificate is for node 25/), 10_000, 'the refusal on node 21');
    // The honest node dials it: the certificate answering is checked against the id dialed.
    const g = await dialRefused(a, impostor, 22);
    expect(String(g.reason)).to.match(/dialed node 22 .* but its certificate is for node 25/);
    expect(g.refused).to.equal(true);
  });

  it('refuses a member without TLS in both directions, with a log line on both sides', async () => {
    const secure = await member(31, { tls: tlsOf(pki!.issue(31)) });
    const plain = await member(32, {});
    const f = await dialRefused(plain, secure, 31);
    expect(String(f.reason)).to.match(/refused our connection: TLS required \(this node is configured without TLS/);
    expect(f.refused).to.equal(true);
    await secure.w.waitEvent(logMatching(/speaks plaintext .* but this node requires TLS/), 10_000, 'the refusal on the TLS node');
    const g = await dialRefused(secure, plain, 32);
    expect(String(g.reason)).to.match(/closed during the TLS handshake \(is the peer configured without TLS/);
    await plain.w.waitEvent(logMatching(/speaks TLS, but this node is configured without TLS/), 10_000, 'the refusal on the plain node');
  });

  it('refuses an expired certificate with a log line saying so', async () => {
    const a = await member(41, { tls: tlsOf(pki!.issue(41)) });
    const stale = await member(42, { tls: tlsOf(pki!.issue(42, { expired: true })) });
    const f = await dialRefused(stale, a, 41);
    expect(String(f.reason)).to.match(/TLS handshake with node 41 .* failed: .*certificate expired/);
    await a.w.waitEvent(logMatching(/TLS handshake with the peer at .* failed: the peer's certificate was rejected: certificate has expired/), 10_000,
      'the refusal on node 41');
  });

  it('refuses a certificate that carries no node id, and one from another CA', async () => {
    const a = await member(51, { tls: tlsOf(pki!.issue(51)) });
    const anonymous = await member(52, { tls: tlsOf(pki!.issue(undefined)) });
    const f = await dialRefused(anonymous, a, 51);
    expect(String(f.reason)).to.match(/refused our connection: certificate carries no node id/);
    await a.w.waitEvent(logMatching(/certificate carries no node id \(a subjectAltName URI derecho:node:<id>/), 10_000, 'the refusal on node 51');
    const other = new DevPki();
    try {
      const stranger = await member(53, { tls: tlsOf(other.issue(53)) });
      // Each side checks the other's certificate against its own CA; the dialer checks first.
      const g = await dialRefused(stranger, a, 51);
      expect(String(g.reason)).to.match(/the peer's certificate was rejected: (unable to get local issuer certificate|self-signed certificate in certificate chain)/);
      await a.w.waitEvent(logMatching(/TLS handshake with the peer at .* failed: .*alert unknown ca/), 10_000, 'the refusal on node 51');
    } finally {
      other.dispose();
    }
  });

  it('accepts either secret during a rotation: members on [new, old] and on [old] meet, [new] and [old] do not', async () => {
    const old = 'the-old-cluster-secret';
    const fresh = 'the-new-cluster-secret';
    const a = await member(61, { secret: [old] });
    const b = await member(62, { secret: [fresh, old] });
    const c = await member(63, { secret: [fresh] });
    // Both directions between [old] and [new, old], and between [new, old] and [new].
    await b.w.request('connect', { peers: [{ nodeId: 61, port: a.port }] });
    await a.w.request('waitConnected', { nodeIds: [62] });
    await c.w.request('connect', { peers: [{ nodeId: 62, port: b.port }] });
    const d = await member(64, { secret: [fresh, old] });
    await a.w.request('connect', { peers: [{ nodeId: 64, port: d.port }] });
    const f = await dialRefused(c, a, 61);
    expect(String(f.reason)).to.match(/failed to prove the cluster secret/);
  });
});
