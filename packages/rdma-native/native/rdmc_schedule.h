// The RDMC block schedule: a binomial pipeline (Ganesan & Seshadri; RDMC paper §4) over the
// largest power-of-two subset of the group, plus one "twin" per extra member fed by a core member.
//
// We derive the schedule by a deterministic simulation rather than closed-form step formulas:
// every member runs the same simulation for (members, blocks) and keeps its own transfer list.
// In step s every core member exchanges with its hypercube neighbour along dimension s mod log2(m):
// the sender hands out blocks in order, everyone else forwards the newest block it has that the
// neighbour lacks. For m a power of two this is the binomial pipeline (blocks + log2(m) - 1 steps).
// A member beyond m is the twin of core member (index - m + 1) and receives every block from it as
// soon as that member has it (Derecho instead alternates the pair's roles inside one "vertex"; the
// twin chain is simpler, is correct for every group size, and costs the feeding member extra
// upload bandwidth).
//
// Over TCP the steps are not run in lock step: each member performs its sends in schedule order,
// each as soon as it holds the block, which is deadlock-free because a send at step s only needs
// blocks received at earlier steps.
#pragma once
#include <cstdint>
#include <vector>

namespace dts {

struct RdmcTransfer {
  uint32_t target;  // member index (0 = the sender)
  uint32_t block;
};

struct RdmcPlan {
  std::vector<RdmcTransfer> sends;  // in the order to perform them
  uint64_t expectedReceives = 0;    // every member but the sender receives every block once
  uint64_t steps = 0;               // simulated steps of the core pipeline
};

/** The plan of member `me` in a group of `members` for a message of `blocks` blocks. */
RdmcPlan rdmcPlan(uint32_t members, uint32_t me, uint32_t blocks);

/** Checks the whole schedule: every non-sender receives each block exactly once and only sends
 *  blocks it holds. Returns an empty string when sound, else what is wrong. Used by tests. */
std::string rdmcVerifySchedule(uint32_t members, uint32_t blocks, uint64_t* stepsOut);

}  // namespace dts
