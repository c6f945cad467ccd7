/** A member's /status as one screen of text (`derecho status` without --json). */
import type { NodeStatus } from '../ops/node-status.js';

export function formatNodeStatus(s: NodeStatus): string {
  const lines: string[] = [];
  const view = s.view === null ? 'no view yet' : `view ${s.view.vid}: ${s.view.members.map((m) => `${m.id}@${m.address}`).join(' ')}`;
  lines.push(`node ${s.node} (${s.state}) at ${s.at}`);
  lines.push(view);
  if (s.suspected.length > 0) lines.push(`suspected: ${s.suspected.join(', ')}`);
  lines.push(s.wedged ? `WEDGED: ${s.reason ?? 'no reason given'}` : s.reason !== null ? `stalled: ${s.reason}` : 'not wedged');
  for (const shard of s.shards) {
    lines.push(`${shard.type}[${shard.index}] shard ${shard.shard} (${shard.mode}): members ${shard.members.join(', ')}`);
    const f = shard.frontiers;
    if (f === undefined) continue;
    lines.push(`  delivered ${f.delivered ?? 'none'}, globally persisted ${f.globallyPersisted ?? 'none'}, queued sends here ${f.queuedSends}`);
    for (const m of f.members) lines.push(`  node ${m.node}: delivered seq ${m.deliveredSeq}, persisted ${m.persisted ?? 'none'}, lag ${m.deliveryLag}`);
  }
  return `${lines.join('\n')}\n`;
}
