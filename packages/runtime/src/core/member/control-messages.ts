/**
 * Control-plane messages (joins, views, state, the start barrier) as the Member sends and takes
 * them, and `parseControl`, which checks every field of a decoded message: a peer that sends
 * something else is misbehaving, and the driver drops its connection instead of acting on
 * garbage. The wire encoding (msgpack behind a channel byte) is the driver's
 * (`../../shell/control-codec.ts`).
 */
import { hlc, type Hlc } from '../hlc.js';
import type { GroupSubgroup, GroupView, MemberAddress } from '../membership/group-view.js';
import type { StateTransfer } from '../membership/next-view.js';
import { validateViewLayout } from '../view.js';

export type ControlMessage =
  | { readonly type: 'join'; readonly member: MemberAddress }
  | { readonly type: 'refused'; readonly code: string; readonly message: string }
  /** To a joiner: the join is pending, but the group cannot admit it yet, and why. */
  | { readonly type: 'deferred'; readonly message: string }
  /** A view for a member to install; `stateTransfers` (joins after formation) says which old
   *  shard leader sends which subgroup's state to whom. */
  | { readonly type: 'view'; readonly view: GroupView; readonly stateTransfers?: readonly StateTransfer[] }
  /**
   * The state of one subgroup replica at the boundary of view `vid` (msgpack; null: no state), and
   * the shard's last delivered HLC, which the receiver's deliveries continue from.
   */
  | { readonly type: 'state'; readonly vid: number; readonly subgroup: number; readonly state: Uint8Array | null; readonly hlc: Hlc }
  /** Not the leader: ask `leader` instead. */
  | { readonly type: 'redirect'; readonly leader: MemberAddress }
  | { readonly type: 'ready'; readonly vid: number }
  | { readonly type: 'start'; readonly vid: number };

export class ControlMessageError extends Error {
  override readonly name = 'ControlMessageError';
}

/** Names a decoded value in an error message; never throws (msgpack can yield BigInts, etc.). */
function describe(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
  if (typeof x === 'bigint') return `${x}n`;
  if (x === null || typeof x !== 'object') return String(x);
  return Array.isArray(x) ? 'an array' : 'an object';
}

function fail(what: string): never {
  throw new ControlMessageError(`malformed control message: ${what}`);
}

function u32(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 0xffffffff) fail(`${what} must be a u32, got ${typeof x === 'number' ? x : typeof x}`);
  return x;
}

function str(x: unknown, what: string, maxLength = 4096): string {
  if (typeof x !== 'string' || x.length > maxLength) fail(`${what} must be a string of at most ${maxLength} characters`);
  return x;
}

function obj(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(`${what} must be an object`);
  return x as Record<string, unknown>;
}

function arr(x: unknown, what: string, maxLength = 1 << 16): unknown[] {
  if (!Array.isArray(x) || x.length > maxLength) fail(`${what} must be an array of at most ${maxLength} entries`);
  return x;
}

function member(x: unknown, what: string): MemberAddress {
  const m = obj(x, what);
  const port = u32(m.port, `${what}.port`);
  if (port < 1 || port > 65535) fail(`${what}.port must be a port number`);
  return { id: u32(m.id, `${what}.id`), host: str(m.host, `${what}.host`, 255), port };
}

function subgroup(x: unknown, what: string): GroupSubgroup {
  const s = obj(x, what);
  const p = obj(s.params, `${what}.params`);
  return {
    type: str(s.type, `${what}.type`, 1024),
    index: u32(s.index, `${what}.index`),
    shards: arr(s.shards, `${what}.shards`).map((sh, i) => {
      const shard = obj(sh, `${what}.shards[${i}]`);
      const mode = shard.mode;
      if (mode !== 'ordered' && mode !== 'unordered' && mode !== 'persistent') fail(`${what}.shards[${i}].mode is not a delivery mode`);
      const senders = arr(shard.senders, `${what}.shards[${i}].senders`).map((b) => {
        if (typeof b !== 'boolean') fail(`${what}.shards[${i}].senders must hold booleans`);
        return b;
      });
      return { members: arr(shard.members, `${what}.shards[${i}].members`).map((id, j) => u32(id, `${what}.shards[${i}].members[${j}]`)), senders, mode };
    }),
    params: {
      windowSize: u32(p.windowSize, `${what}.params.windowSize`),
      maxPayloadBytes: u32(p.maxPayloadBytes, `${what}.params.maxPayloadBytes`),
      maxSmcPayloadBytes: u32(p.maxSmcPayloadBytes, `${what}.params.maxSmcPayloadBytes`),
      blockBytes: u32(p.blockBytes, `${what}.params.blockBytes`),
    },
  };
}

function groupView(x: unknown): GroupView {
  const v = obj(x, 'view');
  const view: GroupView = {
    vid: u32(v.vid, 'view.vid'),
    members: arr(v.members, 'view.members').map((m, i) => member(m, `view.members[${i}]`)),
    subgroups: arr(v.subgroups, 'view.subgroups').map((s, i) => subgroup(s, `view.subgroups[${i}]`)),
  };
  if (view.members.length === 0) fail('view.members is empty');
  try {
    validateViewLayout({ vid: view.vid, members: view.members.map((m) => m.id), myRank: 0, subgroups: view.subgroups });
  } catch (err) {
    fail((err as Error).message);
  }
  return view;
}

/** Checks a decoded control message field by field; throws ControlMessageError naming the first bad one. */
export function parseControl(raw: unknown): ControlMessage {
  const m = obj(raw, 'message');
  switch (m.type) {
    case 'join':
      return { type: 'join', member: member(m.member, 'member') };
    case 'refused':
      return { type: 'refused', code: str(m.code, 'code', 64), message: str(m.message, 'message') };
    case 'deferred':
      return { type: 'deferred', message: str(m.message, 'message') };
    case 'view': {
      const view = groupView(m.view);
      if (m.stateTransfers === undefined) return { type: 'view', view };
      const stateTransfers = arr(m.stateTransfers, 'stateTransfers').map((t, i) => {
        const o = obj(t, `stateTransfers[${i}]`);
        return { subgroup: u32(o.subgroup, `stateTransfers[${i}].subgroup`), shard: u32(o.shard, `stateTransfers[${i}].shard`), from: u32(o.from, `stateTransfers[${i}].from`), to: u32(o.to, `stateTransfers[${i}].to`) };
      });
      return { type: 'view', view, stateTransfers };
    }
    case 'state': {
      if (m.state !== null && !(m.state instanceof Uint8Array)) fail('state must be bytes or null');
      const t = obj(m.hlc, 'hlc');
      let stamp: Hlc;
      try {
        stamp = hlc(t.wallUs as number, t.logical as number);
      } catch (err) {
        fail(`hlc: ${(err as Error).message}`);
      }
      return { type: 'state', vid: u32(m.vid, 'vid'), subgroup: u32(m.subgroup, 'subgroup'), state: m.state as Uint8Array | null, hlc: stamp };
    }
    case 'redirect':
      return { type: 'redirect', leader: member(m.leader, 'leader') };
    case 'ready':
    case 'start':
      return { type: m.type, vid: u32(m.vid, 'vid') };
    default:
      fail(`unknown type ${describe(m.type)}`);
  }
}
