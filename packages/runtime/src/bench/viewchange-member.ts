/**
 * A member for `derecho bench viewchange`. It joins, multicasts a small message every few
 * milliseconds (so a joiner has something to deliver), and reports times on stdout as wall-clock
 * milliseconds, comparable across processes on one machine:
 *   READY <vid> | VIEW <vid> <ms> | JOINSTART <ms> | FIRST <ms> (a late joiner's first delivery)
 * Input: the JSON of ViewChangeMemberTask in DERECHO_MEMBER_TASK. It runs until killed.
 */
import { Group } from '../replicated/group.js';
import { customShards } from '../layout/constructors.js';

export interface ViewChangeMemberTask {
  readonly config: object;
  readonly initialMembers: number;
  readonly maxMembers: number;
  readonly late: boolean;
  readonly sendEveryMs: number;
}

const nowMs = (): number => performance.timeOrigin + performance.now();
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const task = JSON.parse(process.env.DERECHO_MEMBER_TASK ?? 'null') as ViewChangeMemberTask | null;
if (task === null) throw new Error('DERECHO_MEMBER_TASK is not set');
const layout = customShards([{ minNodes: 1, maxNodes: task.maxMembers }]);
if (task.late) say(`JOINSTART ${nowMs()}`);
const group = await Group.join({ config: task.config, subgroups: [{ name: 'vc', layout }], minMembers: task.late ? undefined : task.initialMembers });
const sub = group.rawSubgroup('vc');
let first = true;
sub.on('deliver', () => {
  if (first && task.late) say(`FIRST ${nowMs()}`);
  first = false;
});
group.on('view', (v) => say(`VIEW ${v.vid} ${nowMs()}`));
group.on('shutdown', (e) => say(`SHUTDOWN ${e.reason}`));
say(`READY ${group.view.vid}`);
setInterval(() => {
  try {
    sub.send(new Uint8Array(16));
  } catch {
    // Between views, or removed: the next view takes the sends again.
  }
}, task.sendEveryMs);
