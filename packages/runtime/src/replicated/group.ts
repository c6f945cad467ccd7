/**
 * `Group`: what an application holds. It joins (or forms) the group described by a configuration,
 * maps the program's subgroups onto the layout, and hands out subgroup handles.
 */
import { EventEmitter } from 'eventemitter3';
import type { Logger } from 'pino';
import { resolveConfig } from '../config/load.js';
import { resolveAddresses } from '../config/resolve-addresses.js';
import type { DerechoConfig } from '../config/schema.js';
import type { DeliverOutput } from '../core/core-io.js';
import type { GroupView } from '../core/membership/group-view.js';
import type { Hlc } from '../core/hlc.js';
import { Channel } from '../shell/control-codec.js';
import { GroupNode, type GroupNodeStats } from '../driver/group-node.js';
import type { MemberShutdownReason } from '../core/member/member-io.js';
import { resolveGroupLayout } from '../layout/group-layout.js';
import type { TypeLayout } from '../layout/spec.js';
import { SchemaCodec } from '../rpc/marshal.js';
import type { WireClassTable, WireSchema } from '../rpc/marshal-schema.js';
import { Gateway } from '../gateway/gateway.js';
import { RpcEngine, type ReplicaFactory } from '../rpc/rpc-engine.js';
import type { ViewChange } from '../core/membership/view-change.js';
import { InadequateViewError, GroupClosedError, NotAMemberError, UnknownSubgroupError } from './errors.js';
import { getReplicatedMetadata } from './metadata.js';
import { lockDirectory, type DirectoryLock } from '../persistent/dir-lock.js';
import { RestartLog } from '../persistent/restart-log.js';
import { RawSubgroup } from './raw-subgroup.js';
import { checkClassAgainstSchema } from './schema-check.js';
import { checkSnapshotOptions, createSnapshotShard, snapshotInstant, type SnapshotOptions, type SnapshotShard } from './snapshot.js';
import type { TimeLike } from '../rpc/historical-read.js';
import { GroupMetrics } from '../ops/group-metrics.js';
import { OpsServer } from '../ops/ops-server.js';
import { createPeerCaller, createReplicatedHandle, type PeerCaller, type ReplicatedHandle, type SubgroupTarget } from './typed-subgroup.js';

/** A raw subgroup: byte multicast under a name, with its layout. */
export interface RawSubgroupSpec {
  readonly name: string;
  /** Optional when the configuration file carries a layout for this name. */
  readonly layout?: TypeLayout;
}

/** `group.snapshot(time)`: reads of any shard as of one instant. */
export interface GroupSnapshot {
  /** The instant every read of this snapshot sees. */
  readonly time: Hlc;
  /** Reads of shard `shard` of the typed subgroup `Type` (its `subgroup`-th, default 0) as of `time`. */
  peer<T extends object>(Type: ReplicatedClass<T>, where: { readonly subgroup?: number; readonly shard: number }): SnapshotShard<T>;
}

/** A class decorated with `@Replicated()`. */
export type ReplicatedClass<T extends object = object> = abstract new (...args: never[]) => T;

/** A typed subgroup: every member of a shard holds a replica of `type`, built by `factory`. */
export interface TypedSubgroupSpec<T extends object = object> {
  readonly type: ReplicatedClass<T>;
  /** Optional when the configuration file carries a layout for this class's wire name. */
  readonly layout?: TypeLayout;
  /** Builds this node's replica of one shard; default `new type()`. */
  readonly factory?: (info: { readonly subgroupIndex: number; readonly shard: number; readonly nodeId: number }) => T;
}

export type SubgroupSpec = RawSubgroupSpec | TypedSubgroupSpec;

export interface GroupJoinOptions {
  /** A config file path, or the configuration as an object. */
  readonly config: string | object;
  /** Typed subgroups (`{ type: KVStore, layout }`) and raw ones (`{ name, layout }`), in layout order. */
  readonly subgroups: readonly SubgroupSpec[];
  /** The generated `wireSchema` (derecho.generated.ts); required with typed subgroups. */
  readonly schema?: WireSchema;
  /** The generated `wireClasses` (self-marshalling classes the schema names). */
  readonly wireClasses?: WireClassTable;
  /**
   * Where the configuration flags (`--node-id 3`, `--config cluster.json`, `--set key=value`, the
   * table in the config README) are read. Default: this process's command line
   * (`process.argv.slice(2)`), of which only those flags are taken: the program's other arguments
   * are left to it. Given explicitly, the list must hold configuration flags only (anything else
   * is an error). Pass `[]` to read no flags, e.g. when the program has flags of its own with the
   * same names (`--port`, `--host`, `--config`) or runs under a test runner.
   */
  readonly argv?: readonly string[];
  /** Where DERECHO_* variables are read; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * A pino logger for this node's log lines (child loggers work: `logger.child({ service })`).
   * Default: a new pino logger on stderr at `logging.level`, bound to `{ node: <id> }`. Levels:
   * error and warn are for an operator to act on (a peer failed, a node is stopping, a send was
   * lost); info is routine membership (joined, a view installed, a peer left gracefully, a retry
   * summary); debug is every retry and dropped connection.
   */
  readonly logger?: Logger;
  /** The initial leader waits for this many members before forming view 0 (default: as soon as the layout is adequate). */
  readonly minMembers?: number;
  readonly joinTimeoutMs?: number;
}

export interface GroupEvents {
  /** A view installed here (the first at join, then one per membership change), with who
   *  joined, who departed, and this node's shards. */
  view: [ViewChange];
  peerFailed: [{ nodeId: number; reason: string }];
  /**
   * This node stopped: `removed` by the others, `partitioned` (minority side of a partition),
   * `left`, or `failed` (it could not carry out the protocol: the message says what went wrong;
   * the others remove it as if it had crashed, and the group goes on).
   */
  shutdown: [{ reason: MemberShutdownReason; message: string }];
}

function hasPersistentShard(layout: TypeLayout): boolean {
  if (layout.kind !== 'sharded') return layout.mode === 'persistent';
  return layout.subgroups.some((sg) => sg.shards.some((shard) => shard.mode === 'persistent'));
}

function isTyped(spec: SubgroupSpec): spec is TypedSubgroupSpec {
  return typeof (spec as TypedSubgroupSpec).type === 'function';
}

/** Checks the typed classes against the schema; returns their wire names in `subgroups` order. */
function typedNames(options: GroupJoinOptions): (string | undefined)[] {
  const names = options.subgroups.map((spec, i) => {
    if (isTyped(spec)) {
      const metadata = getReplicatedMetadata(spec.type);
      if (options.schema === undefined) throw new TypeError(`Group.join: subgroups[${i}] is the typed class ${spec.type.name}, which needs the generated schema: pass { schema: wireSchema } from derecho.generated.ts`);
      checkClassAgainstSchema(spec.type.name, metadata, options.schema);
      return metadata.name;
    }
    if (typeof (spec as RawSubgroupSpec).name !== 'string') throw new TypeError(`Group.join: subgroups[${i}] must be { type: ReplicatedClass } or { name: string }`);
    return undefined;
  });
  const seen = new Set<string>();
  options.subgroups.forEach((spec, i) => {
    const name = names[i] ?? (spec as RawSubgroupSpec).name;
    if (seen.has(name)) throw new TypeError(`Group.join: subgroups[${i}] repeats the subgroup type '${name}'`);
    seen.add(name);
  });
  return names;
}

export class Group extends EventEmitter<GroupEvents> {
  private readonly raw = new Map<number, RawSubgroup>();
  private readonly handles = new Map<number, ReplicatedHandle<object>>();
  private readonly peers = new Map<string, PeerCaller<object>>();
  private readonly rpc: RpcEngine | undefined;
  private writableWaiters: (() => void)[] = [];
  private closed = false;

  private constructor(
    private readonly node: GroupNode,
    readonly config: DerechoConfig,
    rpc?: { schema: WireSchema; wireClasses?: WireClassTable; factories: Map<string, ReplicaFactory> },
    private readonly dirLock?: DirectoryLock,
    private readonly restartLog?: RestartLog,
    /** Present when the configuration turns the operator endpoints on (ops.httpPort). */
    private readonly metrics?: GroupMetrics,
  ) {
    super();
    if (rpc !== undefined) {
      const engine = new RpcEngine(
        {
          nodeId: node.nodeId,
          channel: Channel.Rpc,
          log: node.log,
          view: () => node.view,
          // The engine never writes a payload again (RpcTransport.multicast): handed over, not copied.
          multicast: (subgroupId, payload) => node.send(subgroupId, payload, true, true),
          sendP2P: (to, chunks) => node.sendP2P(to, chunks),
          dropPeer: (peer, why) => node.dropPeer(peer, why),
          persisted: (subgroupId, version) => {
            metrics?.persisted(subgroupId, version);
            node.persisted(subgroupId, version);
          },
          stabilityFrontierUs: (subgroupId) => node.stabilityFrontierUs(subgroupId),
          persistenceFailed: (subgroupId, error) => this.leaveAfterDiskFailure(subgroupId, error),
        },
        new SchemaCodec(rpc.schema, rpc.wireClasses),
        rpc.factories,
        new SchemaCodec(rpc.schema, rpc.wireClasses, { copyBuffers: false }),
        { persistence: config.persistence, remoteStacks: config.logging.remoteStacks },
      );
      this.rpc = engine;
      node.setRpcHandler((from, frame) => engine.onFrame(from, frame));
      node.on('peerFailed', (f) => engine.onPeerFailed(f.nodeId, f.reason));
      node.setPersistenceHandler({
        persist: (subgroupId, version) => {
          metrics?.persistRequested(subgroupId, version);
          engine.onPersist(subgroupId, version);
        },
        globalPersisted: (subgroupId, version) => engine.onGlobalPersisted(subgroupId, version),
      });
      node.setStateHandler({
        snapshot: (subgroupId) => engine.snapshotReplica(subgroupId),
        install: (view, subgroupId, state) => engine.installReplicaState(view, subgroupId, state),
      });
    }
    node.on('view', (v) => {
      try {
        this.rpc?.onView(v);
      } catch (err) {
        // A replica could not be built (its factory threw, or its logs are from an earlier
        // run): this node cannot serve its shard. It stops; a join in progress fails with this.
        this.fatal = err instanceof Error ? err : new Error(String(err));
        node.log.error({ vid: v.vid }, 'cannot build this node\'s replicas; the node stops: %s', this.fatal.message);
        void this.close();
        return;
      }
      this.emit('view', v);
    });
    node.on('peerFailed', (f) => this.emit('peerFailed', f));
    node.on('shutdown', (e) => {
      // Removed, partitioned or left: calls still waiting for replies can never get them.
      const event = this.diskFailure !== undefined && e.reason === 'left' ? { reason: e.reason, message: `${e.message}, because ${this.diskFailure.message}` } : e;
      this.stopped = true;
      // The process may exit once the node stopped: the HTTP server must not hold it.
      this.stopOps();
      void this.gateway?.close();
      this.closing = this.rpc?.close(event.message);
      void this.releaseDirectoryAfterClose();
      this.emit('shutdown', event);
    });
    node.on('deliver', (d) => this.onDeliver(d));
    node.on('progress', () => {
      if (this.writableWaiters.length > 0) {
        const waiting = this.writableWaiters;
        this.writableWaiters = [];
        for (const w of waiting) w();
      }
      for (const r of this.raw.values()) r.onProgress();
    });
  }

  static async join(options: GroupJoinOptions): Promise<Group> {
    const config = await resolveAddresses(resolveConfig(options.config, options.argv === undefined ? { argv: process.argv.slice(2), otherArgs: 'ignore', env: options.env } : { argv: options.argv, env: options.env }));
    const names = typedNames(options);
    const layout = resolveGroupLayout(options.subgroups.map((s, i) => ({ type: names[i] ?? (s as RawSubgroupSpec).name, layout: s.layout })), config.layout);
    const factories = new Map<string, ReplicaFactory>();
    options.subgroups.forEach((spec, i) => {
      if (!isTyped(spec)) return;
      const Type = spec.type as unknown as new () => object;
      const make = spec.factory ?? (() => new Type());
      factories.set(names[i]!, { className: names[i]!, create: make });
    });
    const schema = factories.size > 0 ? options.schema : undefined;
    // Typed replicas of persistent shards keep logs in persistence.dir: one process per directory
    // (refused here, before anything opens a log).
    const writesLogs = schema !== undefined && config.persistence.enabled && layout.some((entry) => factories.has(entry.type) && hasPersistentShard(entry.layout));
    const dirLock = writesLogs ? lockDirectory(config.persistence.dir) : undefined;
    let restartLog: RestartLog | undefined;
    let node: GroupNode | undefined;
    let group: Group;
    let metrics: GroupMetrics | undefined;
    try {
      // The views and ragged trims a total restart reads, next to the replicas' logs.
      restartLog = dirLock === undefined ? undefined : RestartLog.open(config.persistence.dir, { fsync: config.persistence.fsync });
      node = GroupNode.create({ config, layout, minMembers: options.minMembers, joinTimeoutMs: options.joinTimeoutMs, schemaHash: options.schema?.hash, logger: options.logger, restartLog });
      if (dirLock?.takenOverFromPid !== undefined) {
        node.log.warn({ dir: dirLock.dir, pid: dirLock.takenOverFromPid }, 'took over the lock of the log directory %s from process %d, which no longer runs', dirLock.dir, dirLock.takenOverFromPid);
      }
      const recovery = restartLog?.recovery;
      if (recovery !== undefined && recovery.droppedBytes > 0) {
        node.log.warn({ file: recovery.file, droppedBytes: recovery.droppedBytes }, 'cut a torn tail of %d bytes from %s (%s): a write cut short by a crash before it was durable', recovery.droppedBytes, recovery.file, recovery.droppedReason);
      }
      // Subscribe before joining: the first deliveries can come with the view's start.
      metrics = config.ops.httpPort === undefined ? undefined : new GroupMetrics(node);
      group = new Group(node, config, schema === undefined ? undefined : { schema, wireClasses: options.wireClasses, factories }, dirLock, restartLog, metrics);
      // Served while joining too: /status then says what the join waits for.
      if (metrics !== undefined) group.opsServer = await OpsServer.start(node, metrics, config.ops.httpHost, config.ops.httpPort!);
    } catch (err) {
      metrics?.close();
      node?.close();
      await restartLog?.close().catch(() => undefined);
      dirLock?.release();
      throw err;
    }
    try {
      await node!.start();
    } catch (err) {
      group.stopOps();
      void group.releaseDirectoryAfterClose();
      throw group.fatal ?? err;
    }
    if (group.fatal !== undefined) {
      group.stopOps();
      void group.releaseDirectoryAfterClose();
      throw group.fatal;
    }
    if (config.gateway.port !== undefined) {
      try {
        await group.startGateway(config.gateway.port);
      } catch (err) {
        await group.close();
        throw err;
      }
    }
    return group;
  }

  /** The HTTP server of /metrics and /status, when ops.httpPort is set. */
  get opsPort(): number | undefined {
    return this.opsServer?.port;
  }

  private opsServer: OpsServer | undefined;

  private stopOps(): void {
    void this.opsServer?.close();
    this.opsServer = undefined;
    this.metrics?.close();
  }

  /** The port of the HTTP/JSON gateway this member serves (config `gateway.port`), if any. */
  get gatewayPort(): number | undefined {
    return this.gateway?.port;
  }

  private gateway: Gateway | undefined;

  private async startGateway(port: number): Promise<void> {
    const engine = this.rpc;
    if (engine === undefined) throw new TypeError('config gateway.port is set, but this member has no typed subgroups for a gateway to serve (pass { type } subgroups and the generated schema to Group.join)');
    const node = this.node;
    this.gateway = await Gateway.start(
      {
        nodeId: node.nodeId,
        codec: engine.codec,
        log: node.log,
        view: () => (this.closed || this.stopped ? undefined : node.view),
        notReady: () => (this.closed || this.stopped ? 'this member has stopped' : node.view === undefined ? 'no view is installed yet' : node.inadequateReason),
        callOrdered: (subgroupId, codec, args, callId) => engine.callOrdered(subgroupId, codec, args, callId),
        callP2P: (subgroupId, target, codec, args) => engine.callP2P(subgroupId, target, codec, args),
      },
      { port, host: this.config.gateway.host, maxBodyBytes: this.config.gateway.maxBodyBytes },
    );
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

  /** Throws InadequateViewError while the group is wedged waiting for members. */
  private checkNotWedged(): void {
    const why = this.node.inadequateReason;
    if (why !== undefined) throw new InadequateViewError(`the group is wedged until more members join: ${why}`);
  }

  /** The handle of raw subgroup `name` (its `index`-th subgroup when the layout gives several).
   *  Throws InadequateViewError while the group waits for enough members to install a view. */
  rawSubgroup(name: string, index = 0): RawSubgroup {
    this.checkNotWedged();
    const view = this.view;
    const subgroupId = view.subgroups.findIndex((s) => s.type === name && s.index === index);
    if (subgroupId < 0) {
      const known = [...new Set(view.subgroups.map((s) => s.type))].join(', ');
      throw new UnknownSubgroupError(`no raw subgroup ${JSON.stringify(name)} with index ${index} in view ${view.vid} (subgroups: ${known || 'none'})`);
    }
    return this.handle(subgroupId, name, index);
  }

  /**
   * This node's handle on typed subgroup `Type` (its `index`-th subgroup when the layout gives
   * several). Throws NotAMemberError when this node is in none of its shards, and
   * InadequateViewError while the group waits for enough members to install a view.
   */
  subgroup<T extends object>(Type: ReplicatedClass<T>, index = 0): ReplicatedHandle<T> {
    this.checkNotWedged();
    const { engine, view, subgroupId, className } = this.locate(Type, index);
    const me = this.node.nodeId;
    const shard = view.subgroups[subgroupId].shards.findIndex((s) => s.members.includes(me));
    if (shard < 0) throw new NotAMemberError(`node ${me} is not in any shard of ${className}[${index}] in view ${view.vid}; non-members call it through group.peer(${Type.name}, { shard })`);
    let handle = this.handles.get(subgroupId);
    if (handle === undefined) {
      handle = createReplicatedHandle<object>(this.target(engine, className, subgroupId, index, shard));
      this.handles.set(subgroupId, handle);
    }
    return handle as ReplicatedHandle<T>;
  }

  /** P2P access to shard `shard` of typed subgroup `Type` (any member of the group may use it). */
  peer<T extends object>(Type: ReplicatedClass<T>, where: { readonly subgroup?: number; readonly shard: number }): PeerCaller<T> {
    const index = where.subgroup ?? 0;
    const { engine, view, subgroupId, className } = this.locate(Type, index);
    const shards = view.subgroups[subgroupId].shards;
    if (!Number.isInteger(where.shard) || where.shard < 0 || where.shard >= shards.length) {
      throw new RangeError(`group.peer(${Type.name}): shard must be an integer from 0 to ${shards.length - 1}, got ${String(where.shard)}`);
    }
    const key = `${subgroupId}/${where.shard}`;
    let caller = this.peers.get(key);
    if (caller === undefined) {
      caller = createPeerCaller<object>(this.target(engine, className, subgroupId, index, where.shard));
      this.peers.set(key, caller);
    }
    return caller as PeerCaller<T>;
  }

  /**
   * A consistent cut across every shard of every typed subgroup: reads through it see the state as
   * of one instant (`time`: an HLC, a Date, or wall-clock µs; default now), each answered by a
   * replica whose shard can no longer deliver anything that early. See `GroupSnapshot`.
   */
  snapshot(time?: TimeLike, options: SnapshotOptions = {}): GroupSnapshot {
    const instant = snapshotInstant(time, Date.now() * 1000);
    const waitMs = checkSnapshotOptions(options);
    return {
      time: instant,
      peer: <T extends object>(Type: ReplicatedClass<T>, where: { readonly subgroup?: number; readonly shard: number }): SnapshotShard<T> => {
        const index = where.subgroup ?? 0;
        const { engine, view, subgroupId, className } = this.locate(Type, index);
        const shards = view.subgroups[subgroupId].shards;
        if (!Number.isInteger(where.shard) || where.shard < 0 || where.shard >= shards.length) {
          throw new RangeError(`snapshot.peer(${Type.name}): shard must be an integer from 0 to ${shards.length - 1}, got ${String(where.shard)}`);
        }
        return createSnapshotShard<T>(this.target(engine, className, subgroupId, index, where.shard), instant, waitMs);
      },
    };
  }

  private locate(Type: ReplicatedClass, index: number) {
    const engine = this.rpc;
    const className = getReplicatedMetadata(Type).name;
    if (engine === undefined || !engine.isTyped(className)) {
      throw new UnknownSubgroupError(`${Type.name} is not one of this group's typed subgroups (pass { type: ${Type.name} } in Group.join's subgroups)`);
    }
    const view = this.view;
    const subgroupId = view.subgroups.findIndex((s) => s.type === className && s.index === index);
    if (subgroupId < 0) throw new UnknownSubgroupError(`no subgroup ${index} of ${className} in view ${view.vid}`);
    return { engine, view, subgroupId, className };
  }

  private target(engine: RpcEngine, className: string, subgroupId: number, index: number, shard: number): SubgroupTarget {
    return {
      engine,
      className,
      subgroupId,
      index,
      shard,
      members: () => this.node.view?.subgroups[subgroupId]?.shards[shard]?.members ?? [],
      queued: () => this.node.queuedSends(subgroupId),
      onCall: this.metrics === undefined ? undefined : (kind, settled) => this.metrics!.timeCall(kind, settled),
      whenWritable: (maxQueued) => {
        const queued = (): number => this.node.queuedSends(subgroupId);
        if (queued() < maxQueued) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const check = (): void => {
            if (this.closed || queued() < maxQueued) resolve();
            else this.writableWaiters.push(check);
          };
          this.writableWaiters.push(check);
        });
      },
    };
  }

  private onDeliver(d: DeliverOutput): void {
    const view = this.node.view;
    const sg = view?.subgroups[d.subgroup];
    if (sg === undefined) return;
    if (d.cooked) {
      if (this.rpc !== undefined) this.rpc.onDeliver(d, view!);
      else this.node.log.error({ subgroup: d.subgroup }, 'an RPC message arrived in a group without typed subgroups; skipped');
      return;
    }
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

  /**
   * A replica's log cannot be made durable (EIO, ENOSPC, ...). This node could never again report
   * its shard's versions persisted, so the shard's persistence frontier would stop and the next
   * view change (which waits for every live member to persist what it delivered) would hang. It
   * leaves instead: the others install a view without it and go on. `shutdown` says why.
   */
  private leaveAfterDiskFailure(subgroupId: number, error: Error): void {
    if (this.diskFailure !== undefined || this.closed) return;
    this.diskFailure = error;
    this.node.log.error({ subgroup: subgroupId }, 'this node leaves the group: %s', error.message);
    // Not from inside the persistence callback: the leave runs the protocol.
    queueMicrotask(() => {
      if (!this.closed) this.node.leave();
    });
  }

  /** Reports `nodeId` as failed: the group removes it in the next view (Derecho's report_failure). */
  reportFailure(nodeId: number): void {
    this.node.reportFailure(nodeId);
  }

  /**
   * Leaves the group gracefully: the others install a view without this node; this node emits
   * `shutdown` with reason 'left' and stops. Resolves once it has stopped and its replicas' logs
   * are synced and closed (never rejects; if the node stopped for another reason first, e.g. it
   * was removed, `shutdown` says why and this resolves all the same). Calls still waiting for
   * replies reject with SenderRemovedError. A group that is wedged waiting for more members
   * leaves once its next view is installed.
   */
  leave(): Promise<void> {
    if (this.closed || this.stopped) return this.closing ?? Promise.resolve();
    this.leaving ??= new Promise<void>((resolve) => {
      this.node.once('shutdown', () => resolve());
      this.node.leave();
    }).then(() => this.closing);
    return this.leaving;
  }

  private leaving: Promise<void> | undefined;
  /** Set when the node stopped on its own (left, removed, partitioned). */
  private stopped = false;

  /**
   * Stops this node at once and releases every socket and thread (the others see it fail). The
   * replicas' logs are synced and closed; the promise resolves once they are (it never rejects).
   */
  close(): Promise<void> {
    if (this.closed) return this.released ?? this.closing ?? Promise.resolve();
    this.closed = true;
    this.stopOps();
    void this.gateway?.close();
    this.closing ??= this.rpc?.close('the group was closed');
    this.node.close();
    this.removeAllListeners();
    return this.dirLock === undefined ? (this.closing ?? Promise.resolve()) : this.releaseDirectoryAfterClose();
  }

  /**
   * The log directory's lock goes once the replicas' logs are closed (at once when none are), and
   * the restart log after them (the node appends nothing once closed).
   */
  private releaseDirectoryAfterClose(): Promise<void> {
    if (this.dirLock === undefined) return Promise.resolve();
    const lock = this.dirLock;
    const restartLog = this.restartLog;
    this.released ??= (this.closing ?? Promise.resolve())
      .then(() => restartLog?.close())
      .catch((err: unknown) => this.node.log.error('closing the restart log failed: %s', err instanceof Error ? err.message : String(err)))
      .finally(() => lock.release());
    return this.released;
  }

  private released: Promise<void> | undefined;

  private closing: Promise<void> | undefined;
  /** Why this node stopped on its own (a replica could not be built). */
  private fatal: Error | undefined;
  /** Set when a replica's disk failed and this node left because of it. */
  private diskFailure: Error | undefined;
}
