import { expect } from 'chai';
import { parseLock, type SchemaLock } from '@derecho-ts/codegen';
import { RUNTIME_IMPORT, idsOf, lockOf, messages, run } from './helpers.js';

const kv = (body: string, extra = ''): Record<string, string> => ({
  '/src/kv.ts': `${RUNTIME_IMPORT}${extra}\n@Replicated() export class KV {\n${body}\n}\n`,
});

const V1 = `
  @Ordered() put(key: string, value: Uint8Array): bigint { return 1n; }
  @P2P() get(key: string): Uint8Array | undefined { return undefined; }
  @Ordered() del(key: string): boolean { return true; }`;

describe('codegen schema lock', () => {
  let v1: SchemaLock;
  before(() => {
    v1 = lockOf(run(kv(V1)));
  });

  it('numbers new methods in name order and records kind and signature', () => {
    expect(v1.classes.KV).to.deep.equal({
      methods: {
        del: { id: 1, kind: 'ordered', signature: '(string) => boolean' },
        get: { id: 2, kind: 'p2p', signature: '(string) => Uint8Array | undefined' },
        put: { id: 3, kind: 'ordered', signature: '(string, Uint8Array) => bigint' },
      },
      retired: [],
    });
  });

  it('keeps ids when methods are reordered and gives an added method the next id', () => {
    const result = run(
      kv(`
  @Ordered() clear(): void {}
  @Ordered() del(k: string): boolean { return true; }
  @P2P() get(k: string): Uint8Array | undefined { return undefined; }
  @Ordered() put(k: string, v: Uint8Array): bigint { return 1n; }`),
      v1,
    );
    expect(idsOf(lockOf(result), 'KV')).to.deep.equal({ clear: 4, del: 1, get: 2, put: 3 });
    expect(result.notices).to.deep.equal(['KV.clear is new: wire id 4']);
  });

  it('detects a rename (same signature and kind, old name gone) and keeps the wire id', () => {
    const result = run(kv(V1.replace('put(', 'write(')), v1);
    const lock = lockOf(result);
    expect(idsOf(lock, 'KV')).to.deep.equal({ del: 1, get: 2, write: 3 });
    expect(lock.classes.KV.retired).to.deep.equal([]);
    expect(result.notices).to.deep.equal(['KV.write takes over wire id 3 from put (renamed: same signature, put is gone)']);
  });

  it('treats a rename that also changes the kind as a removal plus a new method', () => {
    const result = run(kv(V1.replace('@Ordered() put(', '@P2P() write(')), v1);
    const lock = lockOf(result);
    expect(idsOf(lock, 'KV')).to.deep.equal({ del: 1, get: 2, write: 4 });
    expect(lock.classes.KV.retired).to.deep.equal([{ id: 3, name: 'put', signature: '(string, Uint8Array) => bigint' }]);
  });

  it('refuses an ambiguous rename and accepts it with renamedFrom', () => {
    const two = lockOf(run(kv(`${V1}\n  @Ordered() has(key: string): boolean { return true; }`), v1));
    expect(idsOf(two, 'KV')).to.deep.equal({ del: 1, get: 2, has: 4, put: 3 });
    const without = V1.replace(/\n\s*@Ordered\(\) del\(.*/, '');
    const ambiguous = run(kv(`${without}\n  @Ordered() remove(key: string): boolean { return true; }`), two);
    expect(messages(ambiguous)).to.deep.equal([
      "src/kv.ts:7:14: KV.remove: cannot tell whether it renames del or has (removed, same signature and kind); say which with @Ordered({ renamedFrom: 'del' }), or retire the old id(s) in derecho.schema.lock.json",
    ]);
    const explicit = run(kv(`${without}\n  @Ordered({ renamedFrom: 'del' }) remove(key: string): boolean { return true; }`), two);
    const lock = lockOf(explicit);
    expect(idsOf(lock, 'KV')).to.deep.equal({ get: 2, put: 3, remove: 1 });
    expect(lock.classes.KV.retired).to.deep.equal([{ id: 4, name: 'has', signature: '(string) => boolean' }]);
  });

  it('refuses an incompatible signature change, naming the fix', () => {
    const result = run(kv(V1.replace('value: Uint8Array', 'value: string')), v1);
    expect(messages(result)).to.deep.equal([
      "src/kv.ts:5:14: KV.put: its wire signature changed from '(string, Uint8Array) => bigint' to '(string, string) => bigint', but derecho.schema.lock.json gives it wire id 3, " +
        'so peers running the previous build would misread its calls. Keep the old signature, or retire the id: ' +
        'add { "id": 3, "name": "put" } to classes.KV.retired in derecho.schema.lock.json (the method then gets a new id)',
    ]);
    expect(result.outputs).to.deep.equal([]);
  });

  it('sees a change inside a named type as a signature change', () => {
    const withPoint = (z: string): Record<string, string> => kv(`  @Ordered() move(p: Point): void {}`, `export interface Point { x: number; y: number${z} }`);
    const before = lockOf(run(withPoint('')));
    expect(before.classes.KV.methods.move.signature).to.equal('(Point{ x: number; y: number }) => void');
    expect(messages(run(withPoint('; z?: number'), before))[0]).to.contain("KV.move: its wire signature changed from '(Point{ x: number; y: number }) => void' to '(Point{ x: number; y: number; z?: number }) => void'");
  });

  it('accepts the change once the old id is retired, and never reuses it', () => {
    const retiredLock = JSON.parse(JSON.stringify(v1)) as { classes: Record<string, { retired: unknown[] }> };
    retiredLock.classes.KV.retired.push({ id: 3, name: 'put' });
    const result = run(kv(V1.replace('value: Uint8Array', 'value: string')), JSON.stringify(retiredLock));
    const lock = lockOf(result);
    expect(idsOf(lock, 'KV')).to.deep.equal({ del: 1, get: 2, put: 4 });
    expect(lock.classes.KV.retired).to.deep.equal([{ id: 3, name: 'put', signature: '(string, Uint8Array) => bigint' }]);
  });

  it('retires a removed method automatically and gives it a new id if it comes back', () => {
    const removed = lockOf(run(kv(V1.replace(/\n\s*@Ordered\(\) del\(.*/, '')), v1));
    expect(idsOf(removed, 'KV')).to.deep.equal({ get: 2, put: 3 });
    expect(removed.classes.KV.retired).to.deep.equal([{ id: 1, name: 'del', signature: '(string) => boolean' }]);
    const back = lockOf(run(kv(V1), removed));
    expect(idsOf(back, 'KV')).to.deep.equal({ del: 4, get: 2, put: 3 });
  });

  it('keeps the id when a method gains or loses a kind', () => {
    const result = run(kv(V1.replace('@P2P() get', '@Ordered() @P2P() get')), v1);
    const lock = lockOf(result);
    expect(lock.classes.KV.methods.get).to.deep.equal({ id: 2, kind: 'ordered+p2p', signature: '(string) => Uint8Array | undefined' });
    expect(result.notices).to.deep.equal(['KV.get is now ordered+p2p (was p2p); wire id 2 kept']);
  });

  it('retires every id of a class that disappears', () => {
    const result = run({ '/src/other.ts': `${RUNTIME_IMPORT}@Replicated() export class Other { @P2P() ping(): void {} }` }, v1);
    const lock = lockOf(result);
    expect(lock.classes.KV).to.deep.equal({
      methods: {},
      retired: [
        { id: 1, name: 'del', signature: '(string) => boolean' },
        { id: 2, name: 'get', signature: '(string) => Uint8Array | undefined' },
        { id: 3, name: 'put', signature: '(string, Uint8Array) => bigint' },
      ],
    });
    expect(idsOf(lock, 'Other')).to.deep.equal({ ping: 1 });
  });

  it('refuses a renamedFrom that names nothing', () => {
    const result = run(kv(V1.replace('@Ordered() del(', "@Ordered({ renamedFrom: 'erase' }) remove(")), v1);
    expect(messages(result)).to.deep.equal(["src/kv.ts:7:38: KV.remove: renamedFrom 'erase' names no active method of KV in derecho.schema.lock.json"]);
  });

  it('reports a malformed lock file clearly', () => {
    expect(parseLock('{', 'x.lock.json').errors[0].message).to.match(/^x\.lock\.json: not valid JSON/);
    expect(parseLock('{"version": 2, "classes": {}}', 'x.lock.json').errors[0].message).to.equal('x.lock.json: expected { "version": 1, "classes": { ... } }');
    const dup = { version: 1, classes: { A: { methods: { a: { id: 1, kind: 'p2p', signature: '() => void' }, b: { id: 1, kind: 'p2p', signature: '() => void' } }, retired: [] } } };
    expect(parseLock(JSON.stringify(dup), 'x.lock.json').errors[0].message).to.equal('x.lock.json: classes.A: the methods a and b both have id 1');
    const badKind = { version: 1, classes: { A: { methods: { a: { id: 1, kind: 'both', signature: '' } }, retired: [] } } };
    expect(parseLock(JSON.stringify(badKind), 'x.lock.json').errors[0].message).to.equal(
      'x.lock.json: classes.A.methods.a must be { "id": positive integer, "kind": "ordered" | "p2p" | "ordered+p2p", "signature": string }',
    );
  });
});
