// Structure-aware frame generator for fuzzing: a well-formed frame of a given kind, built from
// plausible values (the node, region and group ids the endpoint under test knows), then mutated
// field by field with boundary values, bit flips, truncation, a changed type or trailing bytes.
// Deterministic for a seed, so a crash is reproducible from the seed and the frame number.
#pragma once
#include <cstdint>
#include <vector>

#include "wire.h"

namespace dts {

struct FuzzTargets {
  uint32_t selfId = 0;
  std::vector<uint32_t> nodeIds;    // peers to impersonate (members and strangers)
  std::vector<uint32_t> groupIds;   // RDMC groups that exist on the endpoint
  std::vector<uint32_t> regionIds;  // regions that exist on the endpoint
};

class FrameFuzzer {
 public:
  FrameFuzzer(uint64_t seed, FuzzTargets targets);
  /** One frame of `type`: left well-formed one time in four, else mutated one to three times. */
  std::vector<uint8_t> next(FrameType type);
  /** A node id to impersonate for the next connection. */
  uint32_t pickNode();
  uint64_t random();
  uint32_t below(uint32_t n) { return n ? uint32_t(random() % n) : 0; }

 private:
  struct Field {
    size_t offset;
    size_t bytes;
  };
  std::vector<uint8_t> wellFormed(FrameType type, std::vector<Field>& fields);
  uint64_t interesting();
  uint32_t pick(const std::vector<uint32_t>& from);
  void mutate(std::vector<uint8_t>& f, const std::vector<Field>& fields);
  void resizeRdmc(std::vector<uint8_t>& f);

  uint64_t state_;
  FuzzTargets t_;
};

}  // namespace dts
