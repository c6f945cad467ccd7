/**
 * The Prometheus metrics of one member (prom-client), every one listed in docs/METRICS.md.
 * Counters move on the node's events; gauges of state (view, queues, frontiers, lag) are read when
 * scraped, so the delivery path pays two additions of plain numbers per message. Labels are bounded by the layout: subgroup (its type and index) and shard, never node
 * ids or message contents; per-member lag is the shard's maximum (per member: GET /status).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliverOutput } from '../core/core-io.js';
import { versionSeq, versionVid } from '../core/version.js';
import type { ViewChange } from '../core/membership/view-change.js';
import type { ObservedNode, ObservedNodeEvents } from './observed-node.js';

/** The clock the metrics measure durations with (seconds, monotonic); injectable for tests. */
export type MonotonicSeconds = () => number;

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const VIEW_CHANGE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

type CallKind = 'ordered' | 'p2p';

/** Plain numbers on the delivery path (a labelled prom-client increment hashes its labels each time); published when scraped. */
interface SubgroupCounters {
  readonly labels: { readonly subgroup: string; readonly shard: string };
  messages: number;
  bytes: number;
}

export class GroupMetrics {
  readonly registry = new Registry();
  private readonly delivered: Counter<'subgroup' | 'shard'>;
  private readonly deliveredBytes: Counter<'subgroup' | 'shard'>;
  private readonly viewChanges: Counter;
  private readonly viewChangeSeconds: Histogram;
  private readonly suspicions: Counter;
  private readonly calls: Counter<'kind' | 'outcome'>;
  private readonly callSeconds: Histogram<'kind'>;
  private readonly logSyncSeconds: Histogram<'subgroup'>;
  /** By subgroup id in the current view: its counters' children (undefined: not my subgroup). */
  private bySubgroup: (SubgroupCounters | undefined)[] = [];
  /** Every subgroup/shard this node delivered in since it started, by label text. */
  private readonly totals = new Map<string, SubgroupCounters>();
  /** When the running view stopped being `running` (a change began), in clock seconds. */
  private changeStartedAt: number | undefined;
  /** Persist requests not yet answered, per subgroup: [version, requested at] in version order. */
  private readonly persistRequests = new Map<number, [bigint, number][]>();
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly node: ObservedNode,
    private readonly now: MonotonicSeconds = () => performance.now() / 1000,
  ) {
    const registry = this.registry;
    registry.setDefaultLabels({ node: String(node.nodeId) });
    // Process and event-loop metrics (nodejs_eventloop_lag_seconds and friends).
    collectDefaultMetrics({ register: registry });
    const subgroupLabels = ['subgroup', 'shard'] as const;
    const totals = this.totals;
    this.delivered = new Counter({
      name: 'derecho_delivered_messages_total',
      help: 'Messages delivered here, per subgroup ("Type/index") and shard (null messages are not counted).',
      labelNames: subgroupLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const t of totals.values()) this.inc(t.labels, t.messages);
      },
    });
    this.deliveredBytes = new Counter({
      name: 'derecho_delivered_bytes_total',
      help: 'Payload bytes delivered here, per subgroup and shard.',
      labelNames: subgroupLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const t of totals.values()) this.inc(t.labels, t.bytes);
      },
    });
    this.viewChanges = new Counter({ name: 'derecho_view_changes_total', help: 'Views installed here after the first.', registers: [registry] });
    this.viewChangeSeconds = new Histogram({ name: 'derecho_view_change_duration_seconds', help: 'From the moment this node saw the running view stop (a failure, join or leave) to the next view installed here.', buckets: VIEW_CHANGE_BUCKETS, registers: [registry] });
    this.suspicions = new Counter({ name: 'derecho_suspicions_total', help: 'Peers this node\'s failure detector (or the data plane) reported as failed.', registers: [registry] });
    this.calls = new Counter({ name: 'derecho_rpc_calls_total', help: 'Replicated-object calls this node made, by kind (ordered, p2p) and outcome (ok, error).', labelNames: ['kind', 'outcome'], registers: [registry] });
    this.callSeconds = new Histogram({ name: 'derecho_rpc_call_duration_seconds', help: 'From a call to its last reply (ordered: every replica answered), by kind.', labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers: [registry] });
    this.logSyncSeconds = new Histogram({ name: 'derecho_log_sync_duration_seconds', help: 'From the protocol asking for a version to be durable to the logs reporting it persisted, per subgroup.', labelNames: ['subgroup'], buckets: LATENCY_BUCKETS, registers: [registry] });

    this.gauge('derecho_view_id', 'Id of the installed view (-1 before the first).', () => node.view?.vid ?? -1);
    this.gauge('derecho_view_members', 'Members of the installed view.', () => node.view?.members.length ?? 0);
    this.gauge('derecho_suspected_members', 'Members of the installed view currently suspected of failure.', () => node.protocol?.suspectedIds.length ?? 0);
    this.gauge('derecho_wedged', '1 while this node\'s view is wedged (a view change in progress, or waiting for members: see /status for why).', () => (node.inadequateReason !== undefined || node.protocol?.core.isWedged === true ? 1 : 0));
    this.subgroupGauge('derecho_send_queue_messages', 'Messages this node sent that wait for a window slot or the next flush.', (g) => node.queuedSends(g));
    this.subgroupGauge('derecho_delivered_seq', 'Seq of the last message delivered here in this view (-1: none yet).', (g) => this.shard(g)?.memberFrontiers().find((r) => r.row === node.protocol!.myRank)?.deliveredSeq);
    this.subgroupGauge('derecho_persisted_seq', 'Seq (in the current view) through which this node\'s logs are durable; -1 before any.', (g) => {
      const mine = this.shard(g)?.memberFrontiers().find((r) => r.row === node.protocol!.myRank);
      return mine === undefined ? undefined : this.seqInView(mine.persistedVersion);
    });
    this.subgroupGauge('derecho_global_persisted_seq', 'Seq (in the current view) through which every member of the shard is durable; -1 before any.', (g) => {
      const shard = this.shard(g);
      return shard === undefined ? undefined : this.seqInView(shard.globalPersistedVersion);
    });
    this.subgroupGauge('derecho_delivery_lag_messages', 'How many messages the slowest member of the shard has delivered fewer than the fastest (from this node\'s SST copy).', (g) => {
      const rows = this.shard(g)?.memberFrontiers();
      if (rows === undefined) return undefined;
      const seqs = rows.map((r) => r.deliveredSeq);
      return Math.max(...seqs) - Math.min(...seqs);
    });
    this.subgroupGauge('derecho_persistence_lag_messages', 'Messages delivered here that the shard has not yet persisted at every member.', (g) => {
      const shard = this.shard(g);
      if (shard === undefined || shard.mode !== 'persistent') return undefined;
      const delivered = this.seqInView(shard.lastDeliveredVersion);
      return delivered - this.seqInView(shard.globalPersistedVersion);
    });

    this.listen('view', (v) => this.onView(v));
    this.listen('deliver', (d) => this.onDeliver(d));
    this.listen('peerFailed', () => this.suspicions.inc());
    this.listen('progress', () => this.onProgress());
    if (node.view !== undefined) this.rebuild(node.view as ViewChange);
  }

  /** Times a call this node just made until `settled` (its last reply), and counts its outcome. */
  timeCall(kind: CallKind, settled: Promise<unknown>): void {
    const started = this.now();
    const record = (outcome: 'ok' | 'error'): void => {
      this.calls.inc({ kind, outcome });
      this.callSeconds.observe({ kind }, this.now() - started);
    };
    settled.then(
      () => record('ok'),
      () => record('error'),
    );
  }

  /** The protocol asked for `subgroup` to be durable through `version`. */
  persistRequested(subgroup: number, version: bigint): void {
    let pending = this.persistRequests.get(subgroup);
    if (pending === undefined) this.persistRequests.set(subgroup, (pending = []));
    pending.push([version, this.now()]);
  }

  /** The logs of `subgroup` are durable through `version`: every request up to it is answered. */
  persisted(subgroup: number, version: bigint): void {
    const pending = this.persistRequests.get(subgroup);
    if (pending === undefined) return;
    const label = { subgroup: this.subgroupLabel(subgroup) };
    const now = this.now();
    let done = 0;
    while (done < pending.length && pending[done][0] <= version) this.logSyncSeconds.observe(label, now - pending[done++][1]);
    pending.splice(0, done);
  }

  /** The metrics in Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    for (const off of this.listeners.splice(0)) off();
    this.registry.clear();
  }

  private listen<E extends keyof ObservedNodeEvents>(event: E, fn: (...args: ObservedNodeEvents[E]) => void): void {
    this.node.on(event, fn);
    this.listeners.push(() => this.node.off(event, fn));
  }

  private gauge(name: string, help: string, read: () => number): void {
    new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
  }

  /** A gauge with one series per subgroup of this node in the installed view (`read` undefined: none). */
  private subgroupGauge(name: string, help: string, read: (subgroupId: number) => number | undefined): void {
    const metrics = this;
    new Gauge({
      name,
      help,
      labelNames: ['subgroup', 'shard'],
      registers: [this.registry],
      collect() {
        // Series of subgroups left behind by a view change would report stale values.
        this.reset();
        const view = metrics.node.view;
        if (view === undefined) return;
        for (let g = 0; g < view.subgroups.length; g++) {
          const shard = metrics.shard(g);
          if (shard === undefined) continue;
          const value = read(g);
          if (value !== undefined) this.set({ subgroup: metrics.subgroupLabel(g), shard: String(shard.shardIndex) }, value);
        }
      },
    });
  }

  private shard(subgroup: number) {
    return this.node.protocol?.core.shardOf(subgroup);
  }

  /** A version's seq when it is of the installed view, -1 when it is older (or none). */
  private seqInView(version: bigint): number {
    return version >= 0n && versionVid(version) === this.node.view?.vid ? versionSeq(version) : -1;
  }

  private subgroupLabel(subgroupId: number): string {
    const sg = this.node.view?.subgroups[subgroupId];
    return sg === undefined ? String(subgroupId) : `${sg.type}/${sg.index}`;
  }

  private onView(view: ViewChange): void {
    if (view.joined.length !== view.members.length) {
      this.viewChanges.inc();
      if (this.changeStartedAt !== undefined) this.viewChangeSeconds.observe(this.now() - this.changeStartedAt);
    }
    this.changeStartedAt = undefined;
    this.rebuild(view);
  }

  private rebuild(view: ViewChange): void {
    this.bySubgroup = view.subgroups.map(() => undefined);
    for (const placement of view.myShards) {
      const labels = { subgroup: `${placement.type}/${placement.index}`, shard: String(placement.shard) };
      const key = `${labels.subgroup}#${labels.shard}`;
      let counters = this.totals.get(key);
      if (counters === undefined) this.totals.set(key, (counters = { labels, messages: 0, bytes: 0 }));
      this.bySubgroup[placement.subgroupId] = counters;
    }
  }

  private onDeliver(d: DeliverOutput): void {
    const counters = this.bySubgroup[d.subgroup];
    if (counters === undefined) return;
    counters.messages++;
    counters.bytes += d.payload.length;
  }

  /** After each batch the fabric handed over: notes when the running view stops running. */
  private onProgress(): void {
    if (this.changeStartedAt === undefined && this.node.protocol !== undefined && this.node.protocol.phase !== 'running') this.changeStartedAt = this.now();
  }
}
