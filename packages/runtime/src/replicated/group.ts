/**
 * `Group`: what an application holds. It joins (or forms) the group described by a configuration,
 * maps the program's subgroups onto the layout, and hands out subgroup handles.
 */
import { EventEmitter } from 'eventemitter3';
import { resolveConfig } from '../config/load.js';
import type { DerechoConfig } from '../config/schema.js';
import type { DeliverOutput } from '../core/core-io.js';
import type { GroupView } from '../core/membership/group-view.js';
import { GroupNode, type GroupNodeStats } from '../driver/group-node.js';
import { resolveGroupLayout } from '../layout/group-layout.js';
import type { TypeLayout } from '../layout/spec.js';
import { GroupClosedError, UnknownSubgroupError } from './errors.js';
import { RawSubgroup } from './raw-subgroup.js';

/** A raw subgroup: byte multicast under a name, with its layout. */
export interface RawSubgroupSpec {
  readonly name: string;
  /** Optional when the configuration file carries a layout for this name. */
  readonly layout?: TypeLayout;
}

export interface GroupJoinOptions {
  /** A config file path, or the configuration as an object. */
  readonly config: string | object;
  readonly subgroups: readonly RawSubgroupSpec[];
  /** Configuration flags (`--node-id 3`, ...); default none. */
  readonly argv?: readonly string[];
  /** Where DERECHO_* variables are read; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The initial leader waits for this many members before forming view 0 (default: as soon as the layout is adequate). */
  readonly minMembers?: number;
  readonly joinTimeoutMs?: number;
}

export interface GroupEvents {
  view: [GroupView];
  peerFailed: [{ nodeId: number; reason: string }];
}

export class Group extends EventEmitter<GroupEvents> {
  private readonly raw = new Map<number, RawSubgroup>();
  private closed = false;

  private constructor(
    private readonly node: GroupNode,
    readonly config: DerechoConfig,
  ) {
    super();
    node.on('view', (v) => this.emit('view', v));
    node.on('peerFailed', (f) => this.emit('peerFailed', f));
    node.on('deliver', (d) => this.onDeliver(d));
    node.on('progress', () => {
      for (const r of this.raw.values()) r.onProgress();
    });
  }

  static async join(options: GroupJoinOptions): Promise<Group> {
    const config = resolveConfig(options.config, { argv: options.argv, env: options.env });
    const layout = resolveGroupLayout(options.subgroups.map((s) => ({ type: s.name, layout: s.layout })), config.layout);
    const node = GroupNode.create({ config, layout, minMembers: options.minMembers, joinTimeoutMs: options.joinTimeoutMs });
    // Subscribe before joining: the first deliveries can come with the view's start.
    const group = new Group(node, config);
    await node.start();
    return group;
  }

  /** Receive-path counters (wake-ups, remote writes, deliveries) since this node started. */
  get stats(): Readonly<GroupNodeStats> {
    return this.node.stats;
  }

  get nodeId(): number {
    return this.node.nodeId;
  }

  /** The installed view. */
  get view(): GroupView {
    const v = this.node.view;
    if (v === undefined || this.closed) throw new GroupClosedError('the group has no installed view');
    return v;
  }

  /** The handle of raw subgroup `name` (its `index`-th subgroup when the layout gives several). */
  rawSubgroup(name: string, index = 0): RawSubgroup {
    const view = this.view;
    const subgroupId = view.subgroups.findIndex((s) => s.type === name && s.index === index);
    if (subgroupId < 0) {
      const known = [...new Set(view.subgroups.map((s) => s.type))].join(', ');
      throw new UnknownSubgroupError(`no raw subgroup ${JSON.stringify(name)} with index ${index} in view ${view.vid} (subgroups: ${known || 'none'})`);
    }
    return this.handle(subgroupId, name, index);
  }

  private onDeliver(d: DeliverOutput): void {
    const view = this.node.view;
    const sg = view?.subgroups[d.subgroup];
    if (sg === undefined) return;
    this.handle(d.subgroup, sg.type, sg.index).deliver({ sender: d.senderNode, index: d.index, version: d.version, hlc: d.hlc, payload: d.payload });
  }

  private handle(subgroupId: number, name: string, index: number): RawSubgroup {
    let handle = this.raw.get(subgroupId);
    if (handle === undefined) {
      handle = new RawSubgroup(this.node, name, index, subgroupId);
      this.raw.set(subgroupId, handle);
    }
    return handle;
  }

  /** Leaves the process's membership and releases every socket and thread. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.node.close();
    this.removeAllListeners();
  }
}
