// RDMC over the TCP provider (I/O thread, except the JS entry points, which post commands):
// receivers take the message buffer on the first block and receive every block straight into it;
// each member performs its schedule's sends in order, each as soon as it holds the block.
#include "tcp_provider.h"

namespace dts {

void TcpProvider::rdmcCreateGroup(uint32_t groupId, const std::vector<uint32_t>& members, uint32_t blockBytes) {
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
    if (g.cur) rdmcAdvance(g);  // blocks that arrived before the group existed here
  });
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
  m->blocks = uint32_t(rdmcBlockCount(m->size, g.blockBytes));
  m->have.assign(m->blocks, 1);
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
  RdmcGroup& g = rdmc_[s.groupId];
  g.id = s.groupId;
  if (g.created && g.myIndex == 0) {
    c.dec.fail("rdmc block for group " + std::to_string(s.groupId) + " in which this node is the sender");
    return nullptr;
  }
  if (!g.cur) {
    if (s.msgIndex != g.nextIndex) {
      c.dec.fail("rdmc message " + std::to_string(s.msgIndex) + " in group " + std::to_string(s.groupId) + " while expecting " + std::to_string(g.nextIndex));
      return nullptr;
    }
    if (g.created && s.blockBytes != g.blockBytes) {
      c.dec.fail("rdmc block size " + std::to_string(s.blockBytes) + " differs from the group's " + std::to_string(g.blockBytes));
      return nullptr;
    }
    auto m = std::make_unique<RdmcMsg>();
    m->index = s.msgIndex;
    m->size = s.totalBytes;
    m->blockBytes = s.blockBytes;
    m->blocks = uint32_t(rdmcBlockCount(s.totalBytes, s.blockBytes));
    m->have.assign(m->blocks, 0);
    m->buf = RdmcBuffer::allocate(s.totalBytes);
    if (!m->buf->data) {
      c.dec.fail("cannot allocate " + std::to_string(s.totalBytes) + " bytes for an rdmc message");
      return nullptr;
    }
    g.cur = std::move(m);
  }
  RdmcMsg& m = *g.cur;
  if (s.msgIndex != m.index || s.totalBytes != m.size || s.blockBytes != m.blockBytes) {
    c.dec.fail("rdmc block does not belong to the message in progress in group " + std::to_string(s.groupId));
    return nullptr;
  }
  if (m.have[s.blockNo]) {
    c.dec.fail("rdmc block " + std::to_string(s.blockNo) + " received twice");
    return nullptr;
  }
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
    if (m.acks + 1 < g.members.size()) return;
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
