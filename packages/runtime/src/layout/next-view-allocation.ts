/**
 * Glue between the allocator and membership: the view manager takes an injected
 * `AllocateNextView`; this builds one from a SubgroupAllocator, passing the previous view's
 * allocation so survivors keep their shards (reference §2.14 (3)).
 */
import type { GroupSubgroup, GroupView, SubgroupParams } from '../core/membership/group-view.js';
import type { AllocateNextView } from '../core/membership/next-view.js';
import type { SubgroupAllocator } from './allocate.js';
import { numberSubgroups, type Allocation, type NumberedSubgroup } from './allocation.js';

/** The allocation a GroupView records, in the allocator's type order. */
export function allocationOfView(allocator: SubgroupAllocator, view: GroupView): Pick<Allocation, 'types'> {
  return {
    types: allocator.layout.map(({ type }) => ({
      type,
      subgroups: view.subgroups.filter((s) => s.type === type).sort((a, b) => a.index - b.index).map((s) => s.shards),
    })),
  };
}

/** An AllocateNextView over `allocator`; `paramsFor` gives each subgroup its multicast parameters. */
export function nextViewAllocator(allocator: SubgroupAllocator, paramsFor: (subgroup: NumberedSubgroup) => SubgroupParams): AllocateNextView {
  return (memberIds: readonly number[], previous: GroupView): readonly GroupSubgroup[] => {
    const allocation = allocator.allocate(memberIds, allocationOfView(allocator, previous));
    // Only what a view carries on the wire: a joiner decodes the view without the allocator's
    // extra fields (the profile), and every member must hold the same view as the joiners.
    return numberSubgroups(allocation).map((sg) => ({ type: sg.type, index: sg.index, shards: sg.shards.map((s) => ({ members: s.members, senders: s.senders, mode: s.mode })), params: paramsFor(sg) }));
  };
}
