/**
 * The HTTP/JSON gateway between real processes (issue 14 item 4): three members, KVStore in one
 * shard, the gateway on member 0 (config `gateway.port`). Calls through it reach the replicas;
 * an Idempotency-Key makes a retried ordered call apply once; bad requests — malformed JSON,
 * unknown class or method, wrong or missing argument types, oversized bodies — get a 4xx with
 * the reason, and the members never see them (the store holds only what the good calls wrote).
 */
import { expect } from 'chai';
import { freeLoopbackPorts } from '@derecho-ts/runtime/internals';
import { killAll, spawnMember, waitLine, type MemberProcess } from './member-process.js';
import { fileURLToPath } from 'node:url';

const MEMBER = fileURLToPath(new URL('./fixtures/gateway-member.ts', import.meta.url));

describe('HTTP gateway between processes', function () {
  this.timeout(150_000);
  const members: MemberProcess[] = [];
  let base = '';
  after(() => killAll(members));

  before(async () => {
    const ports = await freeLoopbackPorts(4);
    members.push(...[0, 1, 2].map((id) => spawnMember(MEMBER, { id, ports: ports.slice(0, 3), members: 3, ...(id === 0 ? { gatewayPort: ports[3] } : {}) })));
    const ready = await Promise.all(members.map((m) => waitLine(m, (l) => l.startsWith('ready '), 90_000, 'ready')));
    expect(ready[0]).to.equal(`ready ${ports[3]}`);
    base = `http://127.0.0.1:${ports[3]}`;
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const json = async (r: Response) => (await r.json()) as Record<string, unknown>;

  it('health, readiness and the OpenAPI document', async () => {
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).to.equal(200);
    expect((await json(ready)).status).to.equal('ready');
    const doc = await json(await fetch(`${base}/openapi.json`));
    expect(doc.openapi).to.equal('3.1.0');
    const paths = doc.paths as Record<string, Record<string, unknown>>;
    expect(paths['/v1/KVStore/{shard}/put']).to.have.property('post');
    expect(paths['/v1/KVStore/{shard}/get']).to.have.keys(['post', 'get']);
  });

  it('ordered and p2p calls reach the replicas; an Idempotency-Key retry applies once with the first reply', async () => {
    const put = await post('/v1/KVStore/0/put', JSON.stringify({ key: 'a', value: '1' }));
    expect(put.status).to.equal(200);
    const body = await json(put);
    expect(body.replies).to.equal(3);
    expect(body.result).to.deep.equal({ version: body.version });
    const get = await fetch(`${base}/v1/KVStore/0/get?key=a`);
    expect(await json(get)).to.deep.equal({ result: '1', node: 0 });
    const viaPost = await post('/v1/KVStore/0/get', JSON.stringify({ key: 'a' }));
    expect((await json(viaPost)).result).to.equal('1');

    const first = await json(await post('/v1/KVStore/0/put', JSON.stringify({ key: 'idem', value: 'x' }), { 'idempotency-key': 'order-42' }));
    const retry = await json(await post('/v1/KVStore/0/put', JSON.stringify({ key: 'idem', value: 'x' }), { 'idempotency-key': 'order-42' }));
    // Applied again, the put would have found the value: `previous: 'x'` and a new version.
    expect(retry.result).to.deep.equal(first.result);
    expect(first.result).to.deep.equal({ version: first.version });
    // The retry's own delivery is a later version of the shard (applied as a no-op).
    expect(BigInt(retry.version as string) > BigInt(first.version as string)).to.equal(true);
  });

  it('bad requests get a 4xx naming the problem, and the members never see them', async () => {
    const cases: { what: string; response: Promise<Response>; status: number; message: RegExp }[] = [
      { what: 'malformed JSON', response: post('/v1/KVStore/0/put', '{"key": "b", "value":'), status: 400, message: /JSON/i },
      { what: 'a wrong argument type', response: post('/v1/KVStore/0/put', JSON.stringify({ key: 5, value: 'v' })), status: 400, message: /body\/key must be string/ },
      { what: 'a missing argument', response: post('/v1/KVStore/0/put', JSON.stringify({ key: 'c' })), status: 400, message: /required property 'value'/ },
      { what: 'an unknown argument', response: post('/v1/KVStore/0/put', JSON.stringify({ key: 'd', value: 'v', extra: 1 })), status: 400, message: /additional properties/ },
      { what: 'an unknown method', response: post('/v1/KVStore/0/putt', JSON.stringify({ key: 'e', value: 'v' })), status: 404, message: /KVStore has no replicated method 'putt' \(methods: .*put/ },
      { what: 'an unknown class', response: post('/v1/Nope/0/put', '{}'), status: 404, message: /no replicated class 'Nope' \(classes: .*KVStore/ },
      { what: 'a shard that does not exist', response: post('/v1/KVStore/3/put', JSON.stringify({ key: 'f', value: 'v' })), status: 404, message: /shards 0 to 0, not 3/ },
      { what: 'GET of an ordered-only method', response: fetch(`${base}/v1/KVStore/0/remove?key=a`), status: 404, message: /not a @P2P\(\) method/ },
      { what: 'an oversized body', response: post('/v1/KVStore/0/put', JSON.stringify({ key: 'g', value: 'x'.repeat(100_000) })), status: 413, message: /too large/i },
      { what: 'a non-JSON content type', response: fetch(`${base}/v1/KVStore/0/put`, { method: 'POST', body: 'key=h', headers: { 'content-type': 'text/plain' } }), status: 415, message: /content-type/i },
    ];
    for (const c of cases) {
      const r = await c.response;
      const body = await json(r);
      expect(r.status, `${c.what}: ${JSON.stringify(body)}`).to.equal(c.status);
      expect(body.message, c.what).to.match(c.message);
    }
    // Only 'a' and 'idem' were written: none of the bad requests reached the replicas.
    for (const node of [0, 1, 2]) {
      const size = await json(await post('/v1/KVStore/0/size', '{}'));
      expect(size.result, `size (ordered, every replica), round ${node}`).to.equal(2);
    }
  });
});
