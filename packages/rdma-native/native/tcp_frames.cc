// Frames on an established (authenticated) connection, one function per kind. Every field was
// checked by the decoder against the frame layout; what depends on this node's state (regions,
// groups, messages in flight, acks asked for) is checked here, and a violation fails the decoder
// with the field's name, which drops the connection (readConn logs it with the peer).
#include "tcp_provider.h"

#include <algorithm>

namespace dts {

uint8_t* Conn::payloadTarget(const FrameHeader& h, const uint8_t* sub) {
  if (state != ConnState::Established) return nullptr;
  if (h.type == uint8_t(FrameType::P2P)) {
    p2pBuf = static_cast<uint8_t*>(std::malloc(h.payloadLen));
    if (!p2pBuf) dec.fail("cannot allocate " + std::to_string(h.payloadLen) + " bytes for a message");
    return p2pBuf;
  }
  if (h.type == uint8_t(FrameType::RdmcBlock)) {
    RdmcBlockSub s;
    std::memcpy(&s, sub, sizeof s);
    return owner->rdmcTarget(*this, h, s);
  }
  return nullptr;
}

bool Conn::onFrame(const FrameHeader& h, const uint8_t* sub, const uint8_t* payload) {
  return owner->onConnFrame(*this, h, sub, payload);
}

bool TcpProvider::onConnFrame(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload) {
  if (c.state != ConnState::Established) return onHandshakeFrame(c, h, sub, payload);
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::Put: return onPut(c, h, sub, payload);
    case FrameType::PutAck: return onPutAck(c, sub);
    case FrameType::P2P: return onP2P(c, h);
    case FrameType::RdmcBlock: return onRdmcBlock(c, h, sub);
    case FrameType::RdmcDone: return onRdmcDone(c, sub);
    case FrameType::Reject: return onRejectEstablished(c, h, payload);
    default:
      return refuseHandshake(c, "unexpected handshake frame type " + std::to_string(h.type) + " on an established connection", nullptr);
  }
}

bool TcpProvider::onPut(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload) {
  PutSub s;
  std::memcpy(&s, sub, sizeof s);
  // This thread acknowledges for a JS thread that is blocked (see inlineActive), up to a limit.
  if (s.ackSeq != 0 && !withholdAcks(nowMs())) {
    PutAckSub a{s.ackSeq};
    sendFrame(c, FrameType::PutAck, &a, sizeof a, nullptr, 0);
  }
  PutRecordHeader r{c.peer, s.regionId, s.rangeCount, uint32_t(h.payloadLen - s.rangeCount * sizeof(PutRange))};
  auto& v = pending_.puts;
  const uint8_t* rp = reinterpret_cast<const uint8_t*>(&r);
  v.insert(v.end(), rp, rp + sizeof r);
  v.insert(v.end(), payload, payload + h.payloadLen);
  ++pending_.putCount;
  putsIo_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool TcpProvider::onPutAck(Conn& c, const uint8_t* sub) {
  PutAckSub a;
  std::memcpy(&a, sub, sizeof a);
  std::lock_guard<std::mutex> lk(c.sendMu);
  if (a.ackSeq == 0 || a.ackSeq >= c.nextAckSeq) {
    c.dec.fail("field ackSeq: acknowledgement of put " + std::to_string(a.ackSeq) + ", never asked for (last asked " + std::to_string(c.nextAckSeq - 1) + ")");
    return false;
  }
  while (!c.pendingAcks.empty() && c.pendingAcks.front().first <= a.ackSeq) c.pendingAcks.pop_front();
  return true;
}

bool TcpProvider::onP2P(Conn& c, const FrameHeader& h) {
  markKnown(c.peer);  // the application hears from it: its failure matters from now on
  pending_.p2p.push_back({c.peer, c.p2pBuf, h.payloadLen});
  c.p2pBuf = nullptr;
  return true;
}

bool TcpProvider::onRdmcBlock(Conn& c, const FrameHeader& h, const uint8_t* sub) {
  RdmcBlockSub s;
  std::memcpy(&s, sub, sizeof s);
  if (destroyedRdmc_.count(s.groupId)) return true;
  if (h.payloadLen == 0 && !rdmcTarget(c, h, s)) return false;  // an empty message's only block
  c.headerOnlyRead = h.payloadLen >= 64 * 1024;
  auto it = rdmc_.find(s.groupId);
  if (it == rdmc_.end() || !it->second.cur) return true;
  RdmcGroup& g = it->second;
  RdmcMsg& m = *g.cur;
  if (!m.have[s.blockNo]) {
    m.have[s.blockNo] = 1;
    ++m.received;
  }
  rdmcAdvance(g);
  return true;
}

bool TcpProvider::onRdmcDone(Conn& c, const uint8_t* sub) {
  RdmcDoneSub s;
  std::memcpy(&s, sub, sizeof s);
  if (destroyedRdmc_.count(s.groupId)) return true;
  auto it = rdmc_.find(s.groupId);
  if (it == rdmc_.end() || !it->second.created || it->second.myIndex != 0) {
    c.dec.fail("field groupId: rdmc completion for group " + std::to_string(s.groupId) + ", in which this node sends nothing");
    return false;
  }
  if (!it->second.cur || it->second.cur->index != s.msgIndex) {
    c.dec.fail("field msgIndex: rdmc completion for message " + std::to_string(s.msgIndex) + " of group " + std::to_string(s.groupId) +
               ", which is not in flight");
    return false;
  }
  RdmcGroup& g = it->second;
  auto member = std::find(g.members.begin(), g.members.end(), c.peer);
  if (member == g.members.end() || member == g.members.begin()) {
    c.dec.fail("field groupId: rdmc completion from node " + std::to_string(c.peer) + ", which is not a receiver in rdmc group " + std::to_string(s.groupId));
    return false;
  }
  size_t idx = size_t(member - g.members.begin());
  DTS_ASSERT(idx < g.cur->acked.size(), "ack table sized to the group");
  if (g.cur->acked[idx]) {
    c.dec.fail("field msgIndex: a second rdmc completion for message " + std::to_string(s.msgIndex) + " of group " + std::to_string(s.groupId));
    return false;
  }
  g.cur->acked[idx] = 1;
  ++g.cur->acks;
  rdmcMaybeComplete(g);
  return true;
}

bool TcpProvider::onRejectEstablished(Conn& c, const FrameHeader& h, const uint8_t* payload) {
  // The acceptor took our proof but another connection had proved our id first.
  std::string why(reinterpret_cast<const char*>(payload), h.payloadLen);
  c.refused = true;
  closeConn(&c, "node " + std::to_string(c.peer) + " refused the connection after the handshake: " + hex(why, 128) +
                    (why == "duplicate connection" ? " (it already has a connection from a node with id " + std::to_string(cfg_.nodeId) + ": is that id in use by another process?)" : ""),
            LogLevel::Error, true);
  return false;
}

}  // namespace dts
