import { expect } from 'chai';
import { WireTypeError, defineWireSchema, type WireType } from '@derecho-ts/runtime';
import { SchemaCodec } from '@derecho-ts/runtime/internals';

/** A self-marshalling class, as codegen accepts them: instance toWire() plus static fromWire(). */
class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
  toWire(): [bigint, string] {
    return [this.cents, this.currency];
  }
  static fromWire(wire: [bigint, string]): Money {
    return new Money(wire[0], wire[1]);
  }
}

const t = <T extends WireType>(type: T): T => type;
const str = t({ t: 'string' });
const num = t({ t: 'number' });
const bytes = t({ t: 'bytes' });
const moneyType = t({ t: 'class', name: 'Money', wire: { t: 'tuple', of: [{ t: 'bigint' }, { t: 'string' }] } });

const schema = defineWireSchema({
  hash: 'test',
  classes: {
    KVStore: {
      methods: {
        put: { id: 1, ordered: true, p2p: false, params: [{ name: 'key', type: str, optional: false }, { name: 'value', type: bytes, optional: false }], result: { t: 'bigint' } },
        get: { id: 2, ordered: false, p2p: true, params: [{ name: 'key', type: str, optional: false }], result: { t: 'union', of: [bytes, { t: 'undefined' }] } },
        scan: {
          id: 3,
          ordered: true,
          p2p: true,
          params: [
            { name: 'query', type: { t: 'ref', name: 'Query' }, optional: false },
            { name: 'limit', type: num, optional: true },
          ],
          result: { t: 'map', key: str, value: { t: 'set', of: { t: 'date' } } },
        },
        tree: { id: 4, ordered: true, p2p: false, params: [{ name: 'root', type: { t: 'ref', name: 'Tree' }, optional: false }], result: { t: 'void' } },
        pay: { id: 5, ordered: true, p2p: false, params: [{ name: 'amount', type: moneyType, optional: false }], result: { t: 'array', of: moneyType } },
        blob: { id: 6, ordered: false, p2p: true, params: [{ name: 'b', type: { t: 'buffer' }, optional: false }], result: { t: 'record', of: { t: 'union', of: [num, { t: 'null' }] } } },
        wallet: {
          id: 8,
          ordered: true,
          p2p: false,
          params: [{ name: 'w', type: { t: 'union', of: [{ t: 'null' }, { t: 'object', props: [{ name: 'cash', type: moneyType, optional: false }] }, { t: 'array', of: moneyType }] }, optional: false }],
          result: { t: 'union', of: [moneyType, { t: 'string' }] },
        },
        mode: { id: 7, ordered: true, p2p: false, params: [{ name: 'm', type: { t: 'union', of: [{ t: 'literal', value: 'fast' }, { t: 'literal', value: 'safe' }] }, optional: false }], result: { t: 'boolean' } },
      },
    },
  },
  types: {
    Query: {
      t: 'object',
      props: [
        { name: 'prefix', type: str, optional: false },
        { name: 'after', type: { t: 'date' }, optional: true },
        { name: 'big', type: { t: 'bigint' }, optional: false },
      ],
    },
    Tree: {
      t: 'object',
      props: [
        { name: 'label', type: str, optional: false },
        { name: 'children', type: { t: 'array', of: { t: 'ref', name: 'Tree' } }, optional: false },
      ],
    },
  },
  structures: [
    ['prefix', 'after', 'big'],
    ['label', 'children'],
  ],
});

describe('marshal: schema-driven msgpackr codecs', () => {
  const codec = new SchemaCodec(schema, { Money });
  const other = new SchemaCodec(schema, { Money }); // another process built from the same schema

  const roundTripArgs = (method: string, args: unknown[]): unknown[] => {
    const m = codec.method('KVStore', method);
    return other.method('KVStore', method).decodeArgs(m.encodeArgs(args));
  };
  const roundTripResult = (method: string, result: unknown): unknown => other.method('KVStore', method).decodeResult(codec.method('KVStore', method).encodeResult(result));

  it('round-trips a string key and Uint8Array value, and a bigint result', () => {
    const value = new Uint8Array(100).map((_, i) => i);
    const [key, got] = roundTripArgs('put', ['k', value]) as [string, Uint8Array];
    expect(key).to.equal('k');
    expect(got).to.be.instanceOf(Uint8Array);
    expect([...got]).to.deep.equal([...value]);
    expect(roundTripResult('put', (5n << 40n) | 7n)).to.equal((5n << 40n) | 7n);
    expect(roundTripResult('put', -3n)).to.equal(-3n);
    expect(roundTripResult('put', 1n << 80n)).to.equal(1n << 80n);
  });

  it('round-trips undefined results and optional arguments', () => {
    expect(roundTripResult('get', undefined)).to.equal(undefined);
    const query = { prefix: 'a', big: 2n ** 63n - 1n };
    expect(roundTripArgs('scan', [query])).to.deep.equal([query]);
    expect(roundTripArgs('scan', [query, undefined])).to.deep.equal([query, undefined]);
  });

  it('round-trips Map, Set and Date results and objects with optional Date properties', () => {
    const result = new Map([
      ['x', new Set([new Date(1_700_000_000_123), new Date(0)])],
      ['y', new Set<Date>()],
    ]);
    const got = roundTripResult('scan', result) as Map<string, Set<Date>>;
    expect(got).to.be.instanceOf(Map);
    expect([...got.keys()]).to.deep.equal(['x', 'y']);
    expect([...got.get('x')!].map((d) => d.getTime())).to.deep.equal([1_700_000_000_123, 0]);
    const query = { prefix: 'p', after: new Date(5), big: 1n };
    const [q] = roundTripArgs('scan', [query, 10]) as [typeof query];
    expect(q.after).to.be.instanceOf(Date);
    expect(q.after.getTime()).to.equal(5);
  });

  it('sends known object shapes as shared records, without key names', () => {
    const bytesOut = codec.method('KVStore', 'scan').encodeArgs([{ prefix: 'p', after: new Date(5), big: 1n }]);
    expect(Buffer.from(bytesOut).includes('prefix')).to.equal(false);
    // An object whose keys come in another order still decodes (a per-message structure).
    const reordered = codec.method('KVStore', 'scan').encodeArgs([{ big: 1n, prefix: 'p' }]);
    expect(Buffer.from(reordered).includes('prefix')).to.equal(true);
    expect(other.method('KVStore', 'scan').decodeArgs(reordered)).to.deep.equal([{ big: 1n, prefix: 'p' }]);
  });

  it('round-trips recursive types', () => {
    const tree = { label: 'root', children: [{ label: 'a', children: [] }, { label: 'b', children: [{ label: 'c', children: [] }] }] };
    expect(roundTripArgs('tree', [tree])).to.deep.equal([tree]);
    expect(roundTripResult('tree', undefined)).to.equal(undefined);
  });

  it('marshals self-marshalling classes through toWire/fromWire', () => {
    const [amount] = roundTripArgs('pay', [new Money(1234n, 'EUR')]) as [Money];
    expect(amount).to.be.instanceOf(Money);
    expect(amount).to.deep.equal(new Money(1234n, 'EUR'));
    const list = roundTripResult('pay', [new Money(1n, 'USD'), new Money(2n, 'CHF')]) as Money[];
    expect(list.map((m) => m instanceof Money && `${m.cents}${m.currency}`)).to.deep.equal(['1USD', '2CHF']);
    expect(() => codec.method('KVStore', 'pay').encodeArgs([{ cents: 1n, currency: 'EUR' }])).to.throw(
      WireTypeError,
      "KVStore.pay argument 'amount': expected an instance of Money, got an instance of Object",
    );
  });

  it('marshals self-marshalling classes inside union members', () => {
    const [w1] = roundTripArgs('wallet', [{ cash: new Money(5n, 'EUR') }]) as [{ cash: Money }];
    expect(w1.cash).to.be.instanceOf(Money);
    const [w2] = roundTripArgs('wallet', [[new Money(1n, 'USD'), new Money(2n, 'USD')]]) as [Money[]];
    expect(w2.map((m) => m instanceof Money && m.cents)).to.deep.equal([1n, 2n]);
    expect(roundTripArgs('wallet', [null])).to.deep.equal([null]);
    expect(roundTripResult('wallet', new Money(9n, 'CHF'))).to.deep.equal(new Money(9n, 'CHF'));
    expect(roundTripResult('wallet', 'broke')).to.equal('broke');
  });

  it('gives Buffer parameters a Buffer and round-trips records with null', () => {
    const [b] = roundTripArgs('blob', [Buffer.from('hi')]) as [Buffer];
    expect(Buffer.isBuffer(b)).to.equal(true);
    expect(b.toString()).to.equal('hi');
    expect(roundTripResult('blob', { a: 1, b: null })).to.deep.equal({ a: 1, b: null });
  });

  it('does not alias the receive buffer', () => {
    const wire = codec.method('KVStore', 'put').encodeArgs(['k', new Uint8Array([1, 2, 3])]);
    const [, value] = other.method('KVStore', 'put').decodeArgs(wire) as [string, Uint8Array];
    wire.fill(0);
    expect([...value]).to.deep.equal([1, 2, 3]);
  });

  it('rejects decoded values of the wrong type, naming the method, argument and path', () => {
    const put = codec.method('KVStore', 'put');
    const scan = codec.method('KVStore', 'scan');
    // Forge requests with another method's encoder: the same packr, other declared types.
    const forged = codec.method('KVStore', 'get').encodeArgs(['k']);
    expect(() => put.decodeArgs(forged)).to.throw(WireTypeError, 'KVStore.put: received 1 argument(s), expected 2');
    const wrongType = codec.method('KVStore', 'tree').encodeArgs([{ label: 'x', children: [{ label: 7, children: [] }] }]);
    expect(() => other.method('KVStore', 'tree').decodeArgs(wrongType)).to.throw(WireTypeError, "KVStore.tree argument 'root'.children[0].label: expected string, got number 7");
    const missing = codec.method('KVStore', 'tree').encodeArgs([{ prefix: 'p' }]);
    expect(() => scan.decodeArgs(missing)).to.throw(WireTypeError, "KVStore.scan argument 'query': missing property 'big'");
    const badLiteral = codec.method('KVStore', 'mode').encodeArgs(['slow']);
    expect(() => other.method('KVStore', 'mode').decodeArgs(badLiteral)).to.throw(WireTypeError, "KVStore.mode argument 'm': expected one of the union members, got the string \"slow\"");
    expect(() => put.encodeArgs(['k'])).to.throw(WireTypeError, 'KVStore.put: called with 1 argument(s), expected 2');
    expect(() => scan.encodeArgs([])).to.throw(WireTypeError, 'KVStore.scan: called with 0 argument(s), expected 1 to 2');
  });

  it('looks methods up by name and by wire id, with clear errors', () => {
    expect(codec.methodById('KVStore', 5).methodName).to.equal('pay');
    expect(() => codec.methodById('KVStore', 99)).to.throw('wire schema: KVStore has no method with wire id 99');
    expect(() => codec.method('KVStore', 'nope')).to.throw("wire schema: KVStore has no replicated method 'nope'");
    expect(() => codec.method('Cache', 'get')).to.throw("wire schema: no replicated class named 'Cache' (known: KVStore)");
    expect(() => new SchemaCodec(schema)).to.throw("wire schema: the self-marshalling class 'Money' was not passed to SchemaCodec");
  });
});
