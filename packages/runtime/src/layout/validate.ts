/**
 * Validation of layout specs. Pure; collects every problem, each with the path of the value at
 * fault, so that a config file with three mistakes gets three messages at once. Where the spec came
 * from decides how paths read (`layout[0] (KVStore).subgroups[0].shards[1].maxNodes` for code,
 * `config.layout[0].layout[0].max_nodes_by_shard[1]` for JSON), hence the path namer.
 */
import type { DeliveryMode } from '../core/view.js';
import { LayoutSpecError, type LayoutIssue } from './errors.js';
import { DELIVERY_MODES, type GroupLayout, type ShardPolicy, type SubgroupRef } from './spec.js';
import { show } from './show.js';

/** Node ids are u32 on the wire (reference §2.2). */
export const MAX_NODE_ID = 0xffffffff;

export type ShardField = keyof ShardPolicy;

/** Says how to name each place in a layout in error messages. */
export interface LayoutPathNamer {
  type(t: number): string;
  subgroups(t: number): string;
  shards(t: number, g: number): string;
  shardField(t: number, g: number, s: number, field: ShardField): string;
  /** Fields of a cross-product or whole-view entry. */
  entryField(t: number, field: 'source' | 'target' | 'mode' | 'profile' | 'kind'): string;
}

/** Paths for a GroupLayout built in code, rooted at `root` (e.g. "layout"). */
export function codePathNamer(layout: GroupLayout, root = 'layout'): LayoutPathNamer {
  const entry = (t: number): string => {
    const type = layout[t]?.type;
    return typeof type === 'string' && type !== '' ? `${root}[${t}] (${type})` : `${root}[${t}]`;
  };
  return {
    type: (t) => `${entry(t)}.type`,
    subgroups: (t) => `${entry(t)}.subgroups`,
    shards: (t, g) => `${entry(t)}.subgroups[${g}].shards`,
    shardField: (t, g, s, field) => `${entry(t)}.subgroups[${g}].shards[${s}].${field}`,
    entryField: (t, field) => `${entry(t)}.${field}`,
  };
}

export interface ValidateOptions {
  /**
   * True when checking one type's layout on its own (inside a constructor such as `crossProduct()`),
   * where the other types a cross-product refers to are not known yet.
   */
  readonly standalone?: boolean;
  readonly paths?: LayoutPathNamer;
}

/** Throws LayoutSpecError listing every problem in `layout`. */
export function validateGroupLayout(layout: GroupLayout, options: ValidateOptions = {}): void {
  const issues = layoutIssues(layout, options);
  if (issues.length > 0) throw new LayoutSpecError(issues);
}

export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

export function isNodeId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_NODE_ID;
}

export function isDeliveryMode(value: unknown): value is DeliveryMode {
  return typeof value === 'string' && (DELIVERY_MODES as readonly string[]).includes(value);
}

/** Array check that does not narrow (specs are typed, but may come from untyped callers). */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

const modeExpectation = `expected one of ${DELIVERY_MODES.map((m) => `"${m}"`).join(', ')}`;

/** Every problem in `layout`, in order of appearance. Never throws. */
export function layoutIssues(layout: GroupLayout, options: ValidateOptions = {}): LayoutIssue[] {
  const issues: LayoutIssue[] = [];
  const paths = options.paths ?? codePathNamer(isList(layout) ? layout : []);
  const add = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  if (!isList(layout)) {
    add('layout', `expected an array with one entry per replicated type, got ${show(layout)}`);
    return issues;
  }
  const firstIndexOfType = new Map<string, number>();
  layout.forEach((entry, t) => {
    if (typeof entry.type !== 'string' || entry.type === '') {
      add(paths.type(t), `expected a non-empty type name, got ${show(entry.type)}`);
    } else if (firstIndexOfType.has(entry.type)) {
      add(paths.type(t), `type "${entry.type}" is laid out twice (also at index ${firstIndexOfType.get(entry.type)})`);
    } else {
      firstIndexOfType.set(entry.type, t);
    }
  });

  const checkModeAndProfile = (t: number, mode: unknown, profile: unknown): void => {
    if (!isDeliveryMode(mode)) add(paths.entryField(t, 'mode'), `${modeExpectation}, got ${show(mode)}`);
    if (typeof profile !== 'string' || profile === '') {
      add(paths.entryField(t, 'profile'), `expected a non-empty profile name, got ${show(profile)}`);
    }
  };

  const checkRef = (t: number, which: 'source' | 'target', ref: SubgroupRef | undefined): void => {
    const path = paths.entryField(t, which);
    if (ref === null || typeof ref !== 'object') {
      add(path, `expected { type, index }, got ${show(ref)}`);
      return;
    }
    if (typeof ref.type !== 'string' || ref.type === '') {
      add(`${path}.type`, `expected a type name, got ${show(ref.type)}`);
      return;
    }
    if (!Number.isInteger(ref.index) || ref.index < 0) {
      add(`${path}.index`, `expected a subgroup index (an integer ≥ 0), got ${show(ref.index)}`);
      return;
    }
    if (options.standalone) return;
    const referred = layout.find((e) => e.type === ref.type);
    if (referred === undefined) {
      const known = layout.map((e) => `"${e.type}"`).join(', ');
      add(`${path}.type`, `no type "${ref.type}" in this layout (types: ${known})`);
      return;
    }
    if (referred.layout.kind === 'crossProduct') {
      add(`${path}.type`, `type "${ref.type}" is itself a cross-product; a cross-product must refer to sharded or whole-view subgroups`);
      return;
    }
    const count = referred.layout.kind === 'sharded' ? referred.layout.subgroups.length : 1;
    if (ref.index >= count) {
      add(`${path}.index`, `type "${ref.type}" has ${count} subgroup${count === 1 ? '' : 's'}, so index ${ref.index} is out of range`);
    }
  };

  layout.forEach((entry, t) => {
    const typeLayout = entry.layout as unknown;
    if (typeLayout === null || typeof typeLayout !== 'object') {
      add(paths.entryField(t, 'kind'), `expected a layout (from shards(), customShards(), crossProduct() or wholeView()), got ${show(typeLayout)}`);
      return;
    }
    const l = entry.layout;
    switch (l.kind) {
      case 'wholeView':
        checkModeAndProfile(t, l.mode, l.profile);
        return;
      case 'crossProduct':
        checkRef(t, 'source', l.source);
        checkRef(t, 'target', l.target);
        checkModeAndProfile(t, l.mode, l.profile);
        return;
      case 'sharded':
        break;
      default:
        add(paths.entryField(t, 'kind'), `expected "sharded", "crossProduct" or "wholeView", got ${show((l as { kind?: unknown }).kind)}`);
        return;
    }
    if (!isList(l.subgroups) || l.subgroups.length === 0) {
      add(paths.subgroups(t), `expected at least one subgroup, got ${show(l.subgroups)}`);
      return;
    }
    l.subgroups.forEach((subgroup, g) => {
      if (!isList(subgroup?.shards) || subgroup.shards.length === 0) {
        add(paths.shards(t, g), `expected at least one shard, got ${show(subgroup?.shards)}`);
        return;
      }
      // A node may sit in shards of different subgroups, but in one shard per subgroup only.
      const reservingShard = new Map<number, number>();
      subgroup.shards.forEach((shard, s) => {
        const at = (field: ShardField): string => paths.shardField(t, g, s, field);
        const minOk = isPositiveInteger(shard.minNodes);
        if (!minOk) add(at('minNodes'), `expected a positive integer, got ${show(shard.minNodes)}`);
        if (!isPositiveInteger(shard.maxNodes)) {
          add(at('maxNodes'), `expected a positive integer, got ${show(shard.maxNodes)}`);
        } else if (minOk && shard.maxNodes < shard.minNodes) {
          add(at('maxNodes'), `must be ≥ minNodes (${shard.minNodes}), got ${shard.maxNodes}`);
        }
        if (!isDeliveryMode(shard.mode)) add(at('mode'), `${modeExpectation}, got ${show(shard.mode)}`);
        if (typeof shard.profile !== 'string' || shard.profile === '') {
          add(at('profile'), `expected a non-empty profile name, got ${show(shard.profile)}`);
        }
        const reserved = new Set<number>();
        if (!isList(shard.reservedNodeIds)) {
          add(at('reservedNodeIds'), `expected an array of node ids, got ${show(shard.reservedNodeIds)}`);
        } else {
          shard.reservedNodeIds.forEach((id, k) => {
            if (!isNodeId(id)) {
              add(`${at('reservedNodeIds')}[${k}]`, `expected a node id (an integer from 0 to ${MAX_NODE_ID}), got ${show(id)}`);
            } else if (reserved.has(id)) {
              add(`${at('reservedNodeIds')}[${k}]`, `node id ${id} is listed twice`);
            } else {
              reserved.add(id);
              const other = reservingShard.get(id);
              if (other !== undefined) {
                add(`${at('reservedNodeIds')}[${k}]`, `node id ${id} is also reserved by shard ${other} of the same subgroup; a node can be in only one shard of a subgroup`);
              } else {
                reservingShard.set(id, s);
              }
            }
          });
        }
        if (!isList(shard.reservedSenderIds)) {
          add(at('reservedSenderIds'), `expected an array of node ids, got ${show(shard.reservedSenderIds)}`);
        } else {
          shard.reservedSenderIds.forEach((id, k) => {
            if (!reserved.has(id)) {
              add(`${at('reservedSenderIds')}[${k}]`, `sender ${show(id)} is not one of this shard's reserved node ids`);
            }
          });
        }
      });
    });
  });
  return issues;
}
