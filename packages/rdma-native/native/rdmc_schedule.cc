#include <string>

#include "rdmc_schedule.h"

#include <algorithm>

namespace dts {
namespace {

struct Bitset {
  std::vector<uint64_t> words;
  explicit Bitset(uint32_t n) : words((n + 63) / 64, 0) {}
  bool has(uint32_t i) const { return (words[i >> 6] >> (i & 63)) & 1; }
  void set(uint32_t i) { words[i >> 6] |= uint64_t(1) << (i & 63); }
};

// Highest bit set in a & ~b at or below `limit`, or -1.
int64_t highestMissing(const Bitset& a, const Bitset& b, int64_t limit) {
  if (limit < 0) return -1;
  for (int64_t w = limit >> 6; w >= 0; --w) {
    uint64_t x = a.words[w] & ~b.words[w];
    if (w == (limit >> 6) && (limit & 63) != 63) x &= (uint64_t(2) << (limit & 63)) - 1;
    if (x) return w * 64 + (63 - __builtin_clzll(x));
  }
  return -1;
}

struct Keyed {
  uint64_t key;  // step * 2 + (0 = pipeline send, 1 = twin forward after that step's receive)
  RdmcTransfer t;
};

// Runs the simulation; fills per-member keyed transfer lists for all members.
uint64_t simulate(uint32_t n, uint32_t blocks, std::vector<std::vector<Keyed>>& out) {
  out.assign(n, {});
  if (n <= 1) return 0;
  uint32_t m = 1;
  while (m * 2 <= n) m *= 2;
  uint32_t dims = 0;
  while ((1u << dims) < m) ++dims;
  std::vector<Bitset> have(m, Bitset(blocks));
  std::vector<int64_t> newest(m, -1);       // highest block held (core members)
  std::vector<uint32_t> count(m, 0);
  for (uint32_t b = 0; b < blocks; ++b) have[0].set(b);
  newest[0] = int64_t(blocks) - 1;
  count[0] = blocks;
  uint32_t done = 1;
  uint64_t step = 0;
  struct Move { uint32_t from, to, block; };
  std::vector<Move> moves;
  while (done < m) {
    uint32_t d = uint32_t(step % dims);
    moves.clear();
    for (uint32_t u = 0; u < m; ++u) {
      uint32_t v = u ^ (1u << d);
      if (v == 0 || count[v] == blocks) continue;
      int64_t b;
      if (u == 0) {
        // The sender hands out block `step` (a new block every step), later the newest missing.
        int64_t fresh = std::min<int64_t>(int64_t(step), int64_t(blocks) - 1);
        b = have[v].has(uint32_t(fresh)) ? highestMissing(have[0], have[v], fresh) : fresh;
      } else {
        b = highestMissing(have[u], have[v], newest[u]);
      }
      if (b >= 0) moves.push_back({u, v, uint32_t(b)});
    }
    for (const Move& mv : moves) {
      have[mv.to].set(mv.block);
      newest[mv.to] = std::max<int64_t>(newest[mv.to], mv.block);
      if (++count[mv.to] == blocks) ++done;
      out[mv.from].push_back({step * 2, {mv.to, mv.block}});
      uint32_t twin = mv.to + m - 1;
      if (mv.to != 0 && twin < n) out[mv.to].push_back({step * 2 + 1, {twin, mv.block}});
    }
    ++step;
  }
  for (auto& list : out) {
    std::stable_sort(list.begin(), list.end(), [](const Keyed& a, const Keyed& b) { return a.key < b.key; });
  }
  return step;
}

}  // namespace

RdmcPlan rdmcPlan(uint32_t members, uint32_t me, uint32_t blocks) {
  std::vector<std::vector<Keyed>> all;
  RdmcPlan plan;
  plan.steps = simulate(members, blocks, all);
  if (me < all.size()) {
    plan.sends.reserve(all[me].size());
    for (const Keyed& k : all[me]) plan.sends.push_back(k.t);
  }
  plan.expectedReceives = me == 0 ? 0 : blocks;
  return plan;
}

std::string rdmcVerifySchedule(uint32_t members, uint32_t blocks, uint64_t* stepsOut) {
  std::vector<std::vector<Keyed>> all;
  uint64_t steps = simulate(members, blocks, all);
  if (stepsOut) *stepsOut = steps;
  // Replay in key order across members: a send is legal only if the sender holds the block.
  struct Ev { uint64_t key; uint32_t from; RdmcTransfer t; };
  std::vector<Ev> evs;
  for (uint32_t u = 0; u < all.size(); ++u)
    for (const Keyed& k : all[u]) evs.push_back({k.key, u, k.t});
  std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.key < b.key; });
  std::vector<std::vector<uint32_t>> got(members, std::vector<uint32_t>(blocks, 0));
  for (uint32_t b = 0; b < blocks; ++b) got[0][b] = 1;
  std::vector<std::vector<uint64_t>> gotAt(members, std::vector<uint64_t>(blocks, 0));
  for (const Ev& e : evs) {
    if (e.t.target >= members || e.t.block >= blocks) return "transfer out of range";
    if (!got[e.from][e.t.block] || (e.from != 0 && gotAt[e.from][e.t.block] > e.key))
      return "member " + std::to_string(e.from) + " sends block " + std::to_string(e.t.block) + " before holding it";
    if (e.t.target == 0) return "a block is sent to the sender";
    if (got[e.t.target][e.t.block]++) return "member " + std::to_string(e.t.target) + " receives block " + std::to_string(e.t.block) + " twice";
    gotAt[e.t.target][e.t.block] = e.key + 1;
  }
  for (uint32_t u = 1; u < members; ++u)
    for (uint32_t b = 0; b < blocks; ++b)
      if (got[u][b] != 1) return "member " + std::to_string(u) + " never receives block " + std::to_string(b);
  return "";
}

}  // namespace dts
