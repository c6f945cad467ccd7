/**
 * One member of the IoT smart-memory demo: three replicas of SmartMemory, and a dashboard outside
 * the shard. Step 0: the shard's first member (the gateway) streams sensor readings in as ordered
 * calls; every replica keeps the interesting ones and raises alerts (its local `alert` events).
 * Step 1: each replica reports the alerts it raised; the dashboard reads models, kept readings
 * and alerts from every replica point-to-point.
 */
import { Group, shards } from '@derecho-ts/runtime';
import { wireSchema } from '../derecho.generated.js';
import { runMember } from '../local/member.js';
import { IOT_REPLICAS, readings, SENSORS, type IotStep, type IotTask } from './scenario.js';
import { SmartMemory, type Alert, type SensorModel } from './smart-memory.js';

const showAlert = (a: Alert): string => `${a.sensor}@${a.version}:${a.value.toFixed(2)}:${a.reason}`;

interface Context {
  readonly group: Group;
  readonly member: boolean;
  readonly rank: number;
  readonly fired: Alert[];
}

runMember<IotTask, Context>(
  async (task) => {
    const fired: Alert[] = [];
    const group = await Group.join({
      config: task.config,
      schema: wireSchema,
      subgroups: [
        {
          type: SmartMemory,
          layout: shards({ minNodes: IOT_REPLICAS }),
          factory: () => {
            const memory = new SmartMemory();
            memory.events.on('alert', (a) => fired.push(a));
            return memory;
          },
        },
      ],
      minMembers: task.numNodes,
    });
    const rank = group.peer(SmartMemory, { shard: 0 }).members.indexOf(group.nodeId);
    return { group, member: rank >= 0, rank, fired };
  },
  [
    async (_task, { group, member, rank }): Promise<IotStep> => {
      const me = group.nodeId;
      if (!member) return { node: me, role: 'dashboard', lines: [] };
      if (rank !== 0) return { node: me, role: `replica ${rank}`, lines: [] };
      const memory = group.subgroup(SmartMemory);
      const all = readings();
      const startNs = process.hrtime.bigint();
      // all(): every replica has applied every reading before this step ends (first() would
      // only say that the fastest one had).
      const replies = await Promise.all(all.map((r) => memory.ordered.ingest(r).all()));
      const results = replies.map((m) => m.get(me)!);
      const ms = Number(process.hrtime.bigint() - startNs) / 1e6;
      const kept = results.filter((r) => r.kept).length;
      return { node: me, role: 'gateway', kept, lines: [`gateway: streamed ${all.length} readings from ${SENSORS.length} sensors in ${ms.toFixed(0)} ms; the service kept ${kept}`] };
    },
    async (_task, { group, member, rank, fired }): Promise<IotStep> => {
      const me = group.nodeId;
      if (member) {
        const alerts = fired.map(showAlert);
        return { node: me, role: rank === 0 ? 'gateway' : `replica ${rank}`, alerts, lines: [`replica: raised ${alerts.length} alerts: ${alerts.slice(0, 4).join(', ')}${alerts.length > 4 ? ', ...' : ''}`] };
      }
      const peer = group.peer(SmartMemory, { shard: 0 });
      const views: NonNullable<IotStep['views']> = {};
      for (const node of peer.members) {
        const stub = peer.p2p(node);
        const models: Record<string, SensorModel | undefined> = {};
        const kept: Record<string, number> = {};
        for (const s of SENSORS) {
          models[s] = await stub.model(s);
          kept[s] = (await stub.interesting(s)).length;
        }
        views[node] = { alerts: (await stub.alerts()).map(showAlert), models, kept };
      }
      const first = Object.values(views)[0];
      const lines = [
        `dashboard (not in the shard): ${Object.keys(views).length} replicas answered; alerts per replica: ${Object.entries(views).map(([n, v]) => `node ${n}: ${v.alerts.length}`).join(', ')}`,
        ...SENSORS.map((s) => `dashboard: ${s}: mean ${first.models[s]?.mean.toFixed(2)}, variance ${first.models[s]?.variance.toFixed(2)} over ${first.models[s]?.count} readings, ${first.kept[s]} kept`),
      ];
      return { node: me, role: 'dashboard', lines, views };
    },
  ],
  ({ group }) => group.close(),
);
