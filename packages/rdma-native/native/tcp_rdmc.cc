// RDMC over the TCP provider (I/O thread, except the JS entry points, which post commands):
// receivers take the message buffer on the first block and receive every block straight into it;
// each member performs its schedule's sends in order, each as soon as it holds the block.
#include "tcp_provider.h"

#include <algorithm>

namespace dts {
namespace {
// Groups not created here yet that may hold an early message (blocks that beat the local create).
constexpr size_t kMaxEarlyRdmcGroups = 16;

bool isMember(const RdmcGroup& g, uint32_t nodeId) {
  return std::find(g.members.begin(), g.members.end(), nodeId) != g.members.end();
}
}  // namespace

void TcpProvider::rdmcCreateGroup(uint32_t groupId, const std::vector<uint32_t>& members, uint32_t blockBytes) {
  expectPeers(members);
  command([this, groupId, members, blockBytes] {
    destroyedRdmc_.erase(groupId);
    RdmcGroup& g = rdmc_[groupId];
    g.id = groupId;
    g.created = true;
    g.members = members;
    g.blockBytes = blockBytes;
    g.myIndex = 0;
    for (uint32_t i = 0; i < members.size(); ++i)
      if (members[i] == cfg_.nodeId) g.myIndex = i;
    if (g.cur) {
      // Blocks that arrived before the group existed here: now they can be checked.
      RdmcMsg& m = *g.cur;
      bool fromMembers = std::all_of(m.senders.begin(), m.senders.end(), [&](uint32_t n) { return n != cfg_.nodeId && isMember(g, n); });
      if (g.myIndex == 0) rdmcDropEarly(g, "this node is the group's sender");
      else if (m.blockBytes != blockBytes) rdmcDropEarly(g, "block size " + std::to_string(m.blockBytes) + " differs from the group's " + std::to_string(blockBytes));
      else if (!fromMembers) rdmcDropEarly(g, "blocks came from a node that is not a member");
      else rdmcAdvance(g);
    }
  });
}

void TcpProvider::rdmcDropEarly(RdmcGroup& g, const std::string& why) {
  log(LogLevel::Error, "dropped rdmc message " + std::to_string(g.cur->index) + " of group " + std::to_string(g.id) +
                           " received before the group was created here: " + why);
  g.cur.reset();
}

void TcpProvider::rdmcDestroyGroup(uint32_t groupId) {
  command([this, groupId] {
    rdmc_.erase(groupId);
    destroyedRdmc_.insert(groupId);
  });
}

void TcpProvider::rdmcSend(uint32_t groupId, std::shared_ptr<RdmcBuffer> data) {
  command([this, groupId, data] {
    auto it = rdmc_.find(groupId);
    if (it == rdmc_.end() || !it->second.created) return;
    it->second.queue.push_back(data);
    if (!it->second.cur) rdmcStartNext(it->second);
  });
}

void TcpProvider::rdmcStartNext(RdmcGroup& g) {
  if (g.cur || g.queue.empty()) return;
  auto m = std::make_unique<RdmcMsg>();
  m->buf = g.queue.front();
  g.queue.pop_front();
  m->index = g.sentIndex++;
  m->size = m->buf->size;
  m->blockBytes = g.blockBytes;
  uint64_t blocks = rdmcBlockCount(m->size, g.blockBytes);
  DTS_ASSERT(blocks <= kMaxRdmcBlocks, "rdmc message of " + std::to_string(blocks) + " blocks (send() checks the limit)");
  m->blocks = uint32_t(blocks);
  m->have.assign(m->blocks, 1);
  m->acked.assign(g.members.size(), 0);
  m->received = m->blocks;
  g.cur = std::move(m);
  rdmcAdvance(g);
}

uint8_t* TcpProvider::rdmcTarget(Conn& c, const FrameHeader& h, const RdmcBlockSub& s) {
  if (destroyedRdmc_.count(s.groupId)) {
    // A group closed here: its remaining blocks are read and dropped, the connection stays.
    c.discard.resize(std::max<size_t>(c.discard.size(), h.payloadLen));
    return c.discard.data();
  }
  std::string group = " (rdmc group " + std::to_string(s.groupId) + ")";
  auto found = rdmc_.find(s.groupId);
  if (found == rdmc_.end()) {
    size_t early = 0;
    for (auto& [id, g] : rdmc_)
      if (!g.created) ++early;
    if (early >= kMaxEarlyRdmcGroups) {
      c.dec.fail("field groupId: rdmc block for group " + std::to_string(s.groupId) + ", unknown here, while " + std::to_string(early) +
                 " unknown groups already hold early messages");
      return nullptr;
    }
    found = rdmc_.emplace(s.groupId, RdmcGroup{}).first;
    found->second.id = s.groupId;
  }
  RdmcGroup& g = found->second;
  // A failed check leaves no trace of a group that only this frame brought into being.
  auto fail = [&](const std::string& why) -> uint8_t* {
    c.dec.fail(why + group);
    if (!g.created && !g.cur) rdmc_.erase(found);
    return nullptr;
  };
  if (g.created && g.myIndex == 0) return fail("field groupId: rdmc block for a group in which this node is the sender");
  if (g.created && (!isMember(g, c.peer) || c.peer == cfg_.nodeId))
    return fail("field groupId: rdmc block from node " + std::to_string(c.peer) + ", which is not a member of rdmc group " + std::to_string(s.groupId));
  if (!g.cur) {
    if (s.msgIndex != g.nextIndex)
      return fail("field msgIndex: rdmc message " + std::to_string(s.msgIndex) + " while expecting " + std::to_string(g.nextIndex));
    if (g.created && s.blockBytes != g.blockBytes)
      return fail("field blockBytes: rdmc block size " + std::to_string(s.blockBytes) + " differs from the group's " + std::to_string(g.blockBytes));
    auto m = std::make_unique<RdmcMsg>();
    m->index = s.msgIndex;
    m->size = s.totalBytes;
    m->blockBytes = s.blockBytes;
    uint64_t blocks = rdmcBlockCount(s.totalBytes, s.blockBytes);
    DTS_ASSERT(blocks <= kMaxRdmcBlocks, "the decoder bounds the block count, got " + std::to_string(blocks));
    m->blocks = uint32_t(blocks);
    m->have.assign(m->blocks, 0);
    m->buf = RdmcBuffer::allocate(s.totalBytes);
    if (!m->buf->data) return fail("field totalBytes: cannot allocate " + std::to_string(s.totalBytes) + " bytes for an rdmc message");
    g.cur = std::move(m);
  }
  RdmcMsg& m = *g.cur;
  if (s.msgIndex != m.index || s.totalBytes != m.size || s.blockBytes != m.blockBytes)
    return fail("field msgIndex/totalBytes/blockBytes: rdmc block does not belong to the message in progress");
  DTS_ASSERT(s.blockNo < m.have.size(), "block " + std::to_string(s.blockNo) + " of " + std::to_string(m.have.size()));
  if (m.have[s.blockNo]) return fail("field blockNo: rdmc block " + std::to_string(s.blockNo) + " received twice");
  if (std::find(m.senders.begin(), m.senders.end(), c.peer) == m.senders.end()) m.senders.push_back(c.peer);
  DTS_ASSERT(uint64_t(s.blockNo) * s.blockBytes + h.payloadLen <= m.size || (m.size == 0 && h.payloadLen == 0), "block inside its message");
  return m.buf->data + uint64_t(s.blockNo) * s.blockBytes;
}

bool TcpProvider::rdmcSendBlock(RdmcGroup& g, uint32_t targetIndex, uint32_t block) {
  RdmcMsg& m = *g.cur;
  std::shared_ptr<Conn> c = peerConn(g.members[targetIndex]);
  if (!c) return false;
  RdmcBlockSub s{g.id, block, m.index, m.size, m.blockBytes, 0};
  FrameHeader h = makeHeader(FrameType::RdmcBlock, sizeof s, rdmcBlockLength(m.size, m.blockBytes, block));
  iovec iov[3] = {{&h, sizeof h}, {&s, sizeof s}, {m.buf->data + uint64_t(block) * m.blockBytes, h.payloadLen}};
  std::shared_ptr<void> keep = m.buf;
  sendv(*c, iov, h.payloadLen ? 3 : 2, h.payloadLen ? keep : nullptr);
  return true;
}

void TcpProvider::rdmcAdvance(RdmcGroup& g) {
  if (!g.created || !g.cur) return;
  RdmcMsg& m = *g.cur;
  if (!m.planned) {
    m.plan = rdmcPlan(uint32_t(g.members.size()), g.myIndex, m.blocks);
    m.planned = true;
  }
  while (m.nextSend < m.plan.sends.size()) {
    const RdmcTransfer& t = m.plan.sends[m.nextSend];
    if (!m.have[t.block]) break;
    // Not connected yet: resume when the connection is established (establish() re-advances).
    if (!rdmcSendBlock(g, t.target, t.block)) break;
    ++m.nextSend;
  }
  rdmcMaybeComplete(g);
}

void TcpProvider::rdmcMaybeComplete(RdmcGroup& g) {
  if (!g.cur) return;
  RdmcMsg& m = *g.cur;
  bool sender = g.myIndex == 0;
  if (sender) {
    if (uint64_t(m.acks) + 1 < g.members.size()) return;
  } else {
    if (m.received < m.blocks || m.nextSend < m.plan.sends.size()) return;
    std::shared_ptr<Conn> c = peerConn(g.members[0]);
    RdmcDoneSub d{g.id, 0, m.index};
    if (c) sendFrame(*c, FrameType::RdmcDone, &d, sizeof d, nullptr, 0);
    g.nextIndex = m.index + 1;
  }
  pending_.rdmc.push_back({g.id, g.members[0], m.index, m.buf, sender});
  g.cur.reset();
  if (sender) rdmcStartNext(g);
}

}  // namespace dts
