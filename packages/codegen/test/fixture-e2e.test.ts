import { expect } from 'chai';
import { SchemaCodec, getReplicatedMetadata } from '@derecho-ts/runtime/internals';
import { methodIds, wireClasses, wireSchema } from './fixtures/kv/src/derecho.generated.js';
import { Bar, Foo, KVStore } from './fixtures/kv/src/kv.js';
import { Money } from './fixtures/kv/src/money.js';

describe('generated code end to end (kv fixture)', () => {
  const codec = new SchemaCodec(wireSchema, wireClasses);

  it('agrees with what the decorators recorded at runtime', () => {
    for (const [cls, Class] of [['KVStore', KVStore], ['Foo', Foo], ['Bar', Bar]] as const) {
      const meta = getReplicatedMetadata(Class);
      const methods = wireSchema.classes[cls].methods;
      expect(meta.name).to.equal(cls);
      expect(meta.ordered).to.deep.equal(Object.keys(methods).filter((m) => methods[m].ordered).sort());
      expect(meta.p2p).to.deep.equal(Object.keys(methods).filter((m) => methods[m].p2p).sort());
      expect(Object.keys(methodIds[cls]).sort()).to.deep.equal(Object.keys(methods).sort());
    }
  });

  it('marshals calls and replies with the generated schema, as a replica would run them', () => {
    const replica = new KVStore();
    const other = new SchemaCodec(wireSchema, wireClasses);
    const put = codec.method('KVStore', 'put');
    const args = other.methodById('KVStore', methodIds.KVStore.put).decodeArgs(put.encodeArgs(['k1', new Uint8Array([1, 2, 3])])) as [string, Uint8Array];
    const version = replica.put(...args);
    expect(put.decodeResult(other.method('KVStore', 'put').encodeResult(version))).to.equal(1n);

    const deposit = codec.method('KVStore', 'deposit');
    const [amount, memo] = other.method('KVStore', 'deposit').decodeArgs(deposit.encodeArgs([new Money(250n, 'EUR'), null])) as [Money, null];
    expect(amount).to.be.instanceOf(Money);
    const balance = replica.deposit(amount, memo);
    const back = deposit.decodeResult(other.method('KVStore', 'deposit').encodeResult(balance)) as Money;
    expect(back).to.be.instanceOf(Money);
    expect([back.cents, back.currency]).to.deep.equal([250n, 'EUR']);

    const scan = codec.method('KVStore', 'scan');
    const [query] = other.method('KVStore', 'scan').decodeArgs(scan.encodeArgs([{ prefix: 'k', limit: 5 }])) as [{ prefix: string; limit: number }];
    const entries = replica.scan(query);
    const got = scan.decodeResult(other.method('KVStore', 'scan').encodeResult(entries)) as { key: string; value: Uint8Array; tags: Set<string> }[];
    expect(got).to.have.length(1);
    expect(got[0].key).to.equal('k1');
    expect([...got[0].value]).to.deep.equal([1, 2, 3]);
    expect(got[0].tags).to.be.instanceOf(Set);
  });
});
