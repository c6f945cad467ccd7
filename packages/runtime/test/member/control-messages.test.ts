import { expect } from 'chai';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { ControlMessageError, type ControlMessage } from '../../src/core/member/control-messages.js';
import type { GroupView } from '../../src/core/membership/group-view.js';
import { Channel, decodeControl, encodeControl } from '../../src/shell/control-codec.js';

const view: ControlMessage = {
  type: 'view',
  view: {
    vid: 0,
    members: [
      { id: 0, host: '127.0.0.1', port: 4000 },
      { id: 1, host: '127.0.0.1', port: 4001 },
    ],
    subgroups: [{ type: 'KV', index: 0, shards: [{ members: [0, 1], senders: [true, false], mode: 'ordered' }], params: { windowSize: 16, maxPayloadBytes: 10240, maxSmcPayloadBytes: 1024, blockBytes: 65536 } }],
  },
};

const roundTrip = (m: ControlMessage) => {
  const bytes = encodeControl(m);
  expect(bytes[0]).to.equal(Channel.Control);
  return decodeControl(bytes.subarray(1));
};

describe('control messages', () => {
  it('round-trip every kind', () => {
    for (const m of [
      { type: 'join', member: { id: 9, host: '10.0.0.9', port: 1234 } },
      { type: 'refused', code: 'idInUse', message: 'node id 9 is in use' },
      view,
      { type: 'ready', vid: 3 },
      { type: 'start', vid: 3 },
      { type: 'deferred', message: 'the group cannot install view 4 yet: needs 3 nodes' },
      { type: 'state', vid: 4, subgroup: 1, state: new Uint8Array([1, 2, 3]), hlc: { wallUs: 1_700_000_000_000_000, logical: 2 } },
      { type: 'state', vid: 4, subgroup: 1, state: null, hlc: { wallUs: 0, logical: 0 } },
    ] as ControlMessage[]) {
      expect(roundTrip(m)).to.deep.equal(m);
    }
  });

  it('refuses well-formed msgpack with wrong fields, naming the field', () => {
    const packr = new Packr({ useRecords: false });
    const bad = (x: unknown) => () => decodeControl(packr.pack(x));
    expect(bad({ type: 'join', member: { id: -1, host: 'h', port: 1 } })).to.throw(ControlMessageError, /member\.id must be a u32/);
    expect(bad({ type: 'join', member: { id: 1, host: 'h', port: 70000 } })).to.throw(ControlMessageError, /member\.port must be a port number/);
    expect(bad({ type: 'start', vid: 'zero' })).to.throw(ControlMessageError, /vid must be a u32/);
    expect(bad({ type: 'teleport' })).to.throw(ControlMessageError, /unknown type "teleport"/);
    expect(bad([1, 2, 3])).to.throw(ControlMessageError, /message must be an object/);
    // The HLC a member moving into a shard continues from (issue 10) is checked like every field.
    expect(bad({ type: 'state', vid: 1, subgroup: 0, state: null })).to.throw(ControlMessageError, /hlc must be an object/);
    expect(bad({ type: 'state', vid: 1, subgroup: 0, state: null, hlc: { wallUs: -5, logical: 0 } })).to.throw(ControlMessageError, /hlc: HLC wall time must be a non-negative integer/);
    const v = structuredClone(view) as unknown as { view: { subgroups: { shards: { members: number[] }[] }[] } };
    v.view.subgroups[0].shards[0].members = [0, 7];
    expect(bad(v)).to.throw(ControlMessageError, /node 7 is not a member of view 0/);
  });

  it('never crashes on random or mutated bytes: either a valid message or ControlMessageError', function () {
    // Thousands of generated inputs: seconds on a loaded machine, not mocha's default 2 s.
    this.timeout(120_000);
    const valid = encodeControl(view).subarray(1);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
            const m = Uint8Array.from(valid);
            m[i] = b;
            return m;
          }),
          fc.nat(valid.length).map((n) => valid.subarray(0, n)),
        ),
        (bytes) => {
          try {
            decodeControl(bytes);
          } catch (err) {
            expect(err).to.be.instanceOf(ControlMessageError);
          }
        },
      ),
      { numRuns: 20000 },
    );
  });
});

describe('control messages: total restart', () => {
  const restartView = (view as { view: GroupView }).view;
  const state: ControlMessage = {
    type: 'restartState',
    member: { id: 1, host: '127.0.0.1', port: 4001 },
    state: {
      identity: { cluster: 'orders', schema: 'd41d8cd9' },
      view: restartView,
      trims: [{ vid: 0, subgroup: 0, shard: 0, shardLeader: 0, throughIndex: [3, -1] }],
      logs: [{ subgroup: 0, shard: 0, newestVersion: (5n << 32n) | 7n, newestHlc: { wallUs: 1_700_000_000_000_000, logical: 1 } }],
    },
  };
  const plan: ControlMessage = {
    type: 'restartView',
    plan: { view: { ...restartView, vid: 1 }, shards: [{ subgroup: 0, shard: 0, keepThrough: 7n, source: 0, tails: [{ to: 1, afterVersion: -1n }], hlc: { wallUs: 5, logical: 0 }, reason: 'the longest log wins' }] },
  };

  it('round-trip every restart kind, versions as 64-bit integers', () => {
    for (const m of [
      state,
      plan,
      { type: 'restartLeader', leader: { id: 2, host: '127.0.0.1', port: 4002 }, vid: 5 },
      { type: 'redirect', leader: { id: 2, host: '127.0.0.1', port: 4002 }, restarted: { vid: 6, shards: [{ subgroup: 0, shard: 1, keepThrough: (5n << 32n) | 3n }] } },
      { type: 'logTail', vid: 6, subgroup: 0, shard: 0, afterVersion: -1n, throughVersion: (5n << 32n) | 9n, tail: new Uint8Array([1, 2]) },
    ] as ControlMessage[]) {
      expect(roundTrip(m)).to.deep.equal(m);
    }
  });

  it('never crashes on mutated restart messages: either a valid message or ControlMessageError', () => {
    for (const m of [state, plan]) {
      const valid = encodeControl(m).subarray(1);
      fc.assert(
        fc.property(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), ([i, b]) => {
          const bytes = Uint8Array.from(valid);
          bytes[i] = b;
          try {
            decodeControl(bytes);
          } catch (err) {
            expect(err).to.be.instanceOf(ControlMessageError);
          }
        }),
        { numRuns: 5000 },
      );
    }
  });

  it('refuses restart messages with wrong fields, naming the field', () => {
    const packr = new Packr({ useRecords: false });
    const bad = (x: unknown) => () => decodeControl(packr.pack(x));
    const withLog = (log: unknown) => ({ ...state, state: { ...(state as { state: object }).state, logs: [log] } });
    expect(bad(withLog({ subgroup: 0, shard: 0, newestVersion: -2, newestHlc: { wallUs: 0, logical: 0 } }))).to.throw(ControlMessageError, /state\.logs\[0\]\.newestVersion must be a version/);
    expect(bad({ ...state, state: { ...(state as { state: object }).state, identity: { cluster: 7 } } })).to.throw(ControlMessageError, /state\.identity\.cluster must be a string/);
    const p = (plan as { plan: { shards: readonly object[] } }).plan;
    expect(bad({ type: 'restartView', plan: { ...p, shards: [{ ...p.shards[0], tails: [{ to: 9, afterVersion: 0n }] }] } })).to.throw(ControlMessageError, /node 9 is not a member of view 1/);
    expect(bad({ type: 'restartView', plan: { ...p, shards: [{ ...p.shards[0], tails: [{ to: 1, afterVersion: 7n }] }] } })).to.throw(ControlMessageError, /afterVersion must be below keepThrough/);
    expect(bad({ type: 'logTail', vid: 6, subgroup: 0, shard: 0, afterVersion: 5n, throughVersion: 5n, tail: new Uint8Array() })).to.throw(ControlMessageError, /throughVersion must be after afterVersion/);
  });
});

describe('control messages: values msgpack decodes that JSON cannot show', () => {
  it('a 64-bit integer where a string belongs is refused with ControlMessageError', () => {
    const packr = new Packr({ useRecords: false });
    expect(() => decodeControl(packr.pack({ type: 2n ** 63n }))).to.throw(ControlMessageError, /unknown type 9223372036854775808n/);
  });
});
