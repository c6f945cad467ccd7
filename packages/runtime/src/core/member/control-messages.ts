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
import type { Version } from '../version.js';
import type { RestartPlan, ShardRestartPlan } from './restart-plan.js';
import type { RestartState, RestartTrim } from './restart-state.js';

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
  | {
      readonly type: 'redirect';
      readonly leader: MemberAddress;
      /**
       * To a node coming back with logs, from a member of a group that restarted from logs: the
       * restart view's vid and the agreed trim of every shard. A node whose last logged view is
       * older than that view truncates its logs after the trim before joining.
       */
      readonly restarted?: RestartedTrims;
    }
  | { readonly type: 'ready'; readonly vid: number }
  | { readonly type: 'start'; readonly vid: number }
  /** Total restart: a member coming back from its logs, to the restart leader it follows. */
  | { readonly type: 'restartState'; readonly member: MemberAddress; readonly state: RestartState }
  /**
   * Total restart: `leader` leads it from its logs of view `vid`; send it your restart state (a
   * running member answers `redirect`). Sent by the leader itself, or passed on by a leader that
   * hands over to it.
   */
  | { readonly type: 'restartLeader'; readonly leader: MemberAddress; readonly vid: number }
  /** Total restart: the first view of the new run and the plan (truncations, tails). */
  | { readonly type: 'restartView'; readonly plan: RestartPlan }
  /**
   * Total restart: the field-log records of a shard after `afterVersion` through `throughVersion`
   * (the shell's record encoding), for restart view `vid`.
   */
  | {
      readonly type: 'logTail';
      readonly vid: number;
      readonly subgroup: number;
      readonly shard: number;
      readonly afterVersion: Version;
      readonly throughVersion: Version;
      readonly tail: Uint8Array;
    };

/** What a total restart kept: per shard, the versions through `keepThrough` (restart view `vid`). */
export interface RestartedTrims {
  readonly vid: number;
  readonly shards: readonly { readonly subgroup: number; readonly shard: number; readonly keepThrough: Version }[];
}

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

function groupView(x: unknown, what = 'view'): GroupView {
  const v = obj(x, what);
  const view: GroupView = {
    vid: u32(v.vid, `${what}.vid`),
    members: arr(v.members, `${what}.members`).map((m, i) => member(m, `${what}.members[${i}]`)),
    subgroups: arr(v.subgroups, `${what}.subgroups`).map((s, i) => subgroup(s, `${what}.subgroups[${i}]`)),
  };
  if (view.members.length === 0) fail(`${what}.members is empty`);
  try {
    validateViewLayout({ vid: view.vid, members: view.members.map((m) => m.id), myRank: 0, subgroups: view.subgroups });
  } catch (err) {
    fail((err as Error).message);
  }
  return view;
}

/** A version: a 64-bit integer (msgpack yields a BigInt, or a number when small), -1 for none. */
function version(x: unknown, what: string): Version {
  if (typeof x === 'number' && Number.isSafeInteger(x) && x >= -1) return BigInt(x);
  if (typeof x === 'bigint' && x >= -1n && x < 1n << 63n) return x;
  fail(`${what} must be a version (a 64-bit integer >= -1), got ${describe(x)}`);
}

function hlcOf(x: unknown, what: string): Hlc {
  const t = obj(x, what);
  try {
    return hlc(t.wallUs as number, t.logical as number);
  } catch (err) {
    fail(`${what}: ${(err as Error).message}`);
  }
}

function restartTrim(x: unknown, what: string): RestartTrim {
  const t = obj(x, what);
  const throughIndex = arr(t.throughIndex, `${what}.throughIndex`).map((i, k) => {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < -1 || i > 0x7fffffff) fail(`${what}.throughIndex[${k}] must be an integer >= -1`);
    return i;
  });
  return { vid: u32(t.vid, `${what}.vid`), subgroup: u32(t.subgroup, `${what}.subgroup`), shard: u32(t.shard, `${what}.shard`), shardLeader: u32(t.shardLeader, `${what}.shardLeader`), throughIndex };
}

function restartState(x: unknown): RestartState {
  const s = obj(x, 'state');
  const id = obj(s.identity, 'state.identity');
  return {
    identity: { cluster: str(id.cluster, 'state.identity.cluster', 1024), schema: str(id.schema, 'state.identity.schema', 1024) },
    view: groupView(s.view, 'state.view'),
    trims: arr(s.trims, 'state.trims').map((t, i) => restartTrim(t, `state.trims[${i}]`)),
    logs: arr(s.logs, 'state.logs').map((l, i) => {
      const o = obj(l, `state.logs[${i}]`);
      return { subgroup: u32(o.subgroup, `state.logs[${i}].subgroup`), shard: u32(o.shard, `state.logs[${i}].shard`), newestVersion: version(o.newestVersion, `state.logs[${i}].newestVersion`), newestHlc: hlcOf(o.newestHlc, `state.logs[${i}].newestHlc`) };
    }),
  };
}

function restartPlan(x: unknown): RestartPlan {
  const p = obj(x, 'plan');
  const view = groupView(p.view, 'plan.view');
  const isMember = (id: number) => view.members.some((m) => m.id === id);
  const shards = arr(p.shards, 'plan.shards').map((x, i): ShardRestartPlan => {
    const w = `plan.shards[${i}]`;
    const s = obj(x, w);
    const source = s.source === null ? null : u32(s.source, `${w}.source`);
    const keepThrough = version(s.keepThrough, `${w}.keepThrough`);
    const tails = arr(s.tails, `${w}.tails`).map((t, j) => {
      const o = obj(t, `${w}.tails[${j}]`);
      const to = u32(o.to, `${w}.tails[${j}].to`);
      if (!isMember(to)) fail(`${w}.tails[${j}].to: node ${to} is not a member of view ${view.vid}`);
      const afterVersion = version(o.afterVersion, `${w}.tails[${j}].afterVersion`);
      if (afterVersion >= keepThrough) fail(`${w}.tails[${j}].afterVersion must be below keepThrough`);
      return { to, afterVersion };
    });
    if (tails.length > 0 && (source === null || !isMember(source))) fail(`${w}.source must be a member of view ${view.vid} when tails are sent`);
    return { subgroup: u32(s.subgroup, `${w}.subgroup`), shard: u32(s.shard, `${w}.shard`), keepThrough, source, tails, hlc: hlcOf(s.hlc, `${w}.hlc`), reason: str(s.reason, `${w}.reason`) };
  });
  return { view, shards };
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
      return { type: 'state', vid: u32(m.vid, 'vid'), subgroup: u32(m.subgroup, 'subgroup'), state: m.state as Uint8Array | null, hlc: hlcOf(m.hlc, 'hlc') };
    }
    case 'restartState':
      return { type: 'restartState', member: member(m.member, 'member'), state: restartState(m.state) };
    case 'restartLeader':
      return { type: 'restartLeader', leader: member(m.leader, 'leader'), vid: u32(m.vid, 'vid') };
    case 'restartView':
      return { type: 'restartView', plan: restartPlan(m.plan) };
    case 'logTail': {
      if (!(m.tail instanceof Uint8Array)) fail('tail must be bytes');
      const afterVersion = version(m.afterVersion, 'afterVersion');
      const throughVersion = version(m.throughVersion, 'throughVersion');
      if (throughVersion <= afterVersion) fail('throughVersion must be after afterVersion');
      return { type: 'logTail', vid: u32(m.vid, 'vid'), subgroup: u32(m.subgroup, 'subgroup'), shard: u32(m.shard, 'shard'), afterVersion, throughVersion, tail: m.tail };
    }
    case 'redirect': {
      const leader = member(m.leader, 'leader');
      if (m.restarted === undefined) return { type: 'redirect', leader };
      const r = obj(m.restarted, 'restarted');
      const shards = arr(r.shards, 'restarted.shards').map((x, i) => {
        const o = obj(x, `restarted.shards[${i}]`);
        return { subgroup: u32(o.subgroup, `restarted.shards[${i}].subgroup`), shard: u32(o.shard, `restarted.shards[${i}].shard`), keepThrough: version(o.keepThrough, `restarted.shards[${i}].keepThrough`) };
      });
      return { type: 'redirect', leader, restarted: { vid: u32(r.vid, 'restarted.vid'), shards } };
    }
    case 'ready':
    case 'start':
      return { type: m.type, vid: u32(m.vid, 'vid') };
    default:
      fail(`unknown type ${describe(m.type)}`);
  }
}
