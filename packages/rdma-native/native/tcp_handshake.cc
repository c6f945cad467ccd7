// The handshake, before the peer is authenticated: accepting (with the limits on unauthenticated
// connections), dialing, and one function per handshake frame. Until the proof checks out the
// decoder reads nothing but handshake frames of a few KiB, and a claimed node id reserves nothing.
//
//   dialer                         acceptor
//   Hello (id, nonce, build)  ->   onHello: version, build, id; answers (never reserves the id)
//   onHelloAck: checks its proof <- HelloAck (id, nonce, proof)
//   Proof                     ->   onProof: checks it; now the id is taken (first proof wins)
// A refusal sends the peer a fixed code (`reject`), never our build or version: the details are
// logged here.
#include "tcp_provider.h"

namespace dts {

void TcpProvider::handleAccept() {
  for (;;) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    int fd = accept4(listenFd_, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break;
    uint64_t now = nowMs();
    std::string why;
    if (!admitPending(sa.sin_addr.s_addr, now, why)) {
      // Closed before any byte is read or any memory is set aside for it.
      ::close(fd);
      ++refusedSinceLog_;
      lastRefusal_ = why;
      continue;
    }
    setNoDelay(fd);
    auto c = std::make_shared<Conn>();
    c->owner = this;
    c->fd = fd;
    c->ip = sa.sin_addr.s_addr;
    c->countedPending = true;
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    c->addr = std::string(ip) + ":" + std::to_string(ntohs(sa.sin_port));
    c->state = ConnState::WaitHello;
    c->handshakeDeadlineMs = now + cfg_.handshakeTimeoutMs;
    c->rx.resize(kHandshakeRxBytes);
    if (getrandom(c->myNonce, kNonceBytes, 0) != ssize_t(kNonceBytes)) {
      releasePending(*c);
      ::close(fd);
      continue;
    }
    if (tlsCtx_) c->tls = std::make_unique<TlsSession>(*tlsCtx_, false);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = c.get();
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    conns_[c.get()] = c;
  }
  uint64_t now = nowMs();
  if (refusedSinceLog_ > 0 && now >= refusalLoggedMs_ + 1000) {
    // One line per second at most: a flood must not become a flood of log lines.
    log(LogLevel::Warn, "refused " + std::to_string(refusedSinceLog_) + " incoming connection(s) without reading them: " + lastRefusal_);
    refusedSinceLog_ = 0;
    refusalLoggedMs_ = now;
  }
}

bool TcpProvider::admitPending(uint32_t ip, uint64_t now, std::string& why) {
  uint32_t perAddress = std::max<uint32_t>(1, cfg_.maxPendingHandshakes / 4);
  if (pendingHandshakes_ >= cfg_.maxPendingHandshakes) {
    why = "too many unauthenticated connections (" + std::to_string(cfg_.maxPendingHandshakes) + ", maxPendingHandshakes)";
    return false;
  }
  if (budgets_.size() > 4096) {
    // Forget addresses with nothing pending whose budget has refilled completely anyway.
    double burst = cfg_.handshakesPerSecondPerAddress;
    for (auto it = budgets_.begin(); it != budgets_.end();) {
      double refill = double(now - it->second.refilledMs) / 1000.0 * cfg_.handshakesPerSecondPerAddress;
      if (it->second.pending == 0 && it->second.tokens + refill >= burst) it = budgets_.erase(it);
      else ++it;
    }
  }
  auto [it, fresh] = budgets_.try_emplace(ip);
  AddressBudget& b = it->second;
  if (fresh) {
    b.tokens = cfg_.handshakesPerSecondPerAddress;
    b.refilledMs = now;
  } else {
    b.tokens = std::min<double>(cfg_.handshakesPerSecondPerAddress,
                                b.tokens + double(now - b.refilledMs) / 1000.0 * cfg_.handshakesPerSecondPerAddress);
    b.refilledMs = now;
  }
  char text[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &ip, text, sizeof text);
  if (b.pending >= perAddress) {
    why = "too many unauthenticated connections from " + std::string(text) + " (" + std::to_string(perAddress) + ", a quarter of maxPendingHandshakes)";
    return false;
  }
  if (b.tokens < 1) {
    why = "more than " + std::to_string(cfg_.handshakesPerSecondPerAddress) + " new connections per second from " + std::string(text) +
          " (handshakesPerSecondPerAddress)";
    return false;
  }
  b.tokens -= 1;
  ++b.pending;
  ++pendingHandshakes_;
  return true;
}

void TcpProvider::releasePending(Conn& c) {
  if (!c.countedPending) return;
  c.countedPending = false;
  --pendingHandshakes_;
  auto it = budgets_.find(c.ip);
  if (it != budgets_.end() && it->second.pending > 0) --it->second.pending;
}

void TcpProvider::connect(uint32_t nodeId, const std::string& host, uint16_t port) {
  if (nodeId != kAnyNode) markKnown(nodeId);
  command([this, nodeId, host, port] { dialNow(nodeId, host, port); });
}

void TcpProvider::dialNow(uint32_t nodeId, const std::string& host, uint16_t port) {
  {
    std::lock_guard<std::mutex> lk(peersMu_);
    if (peers_.count(nodeId)) return;
  }
  if (dialing_.count(nodeId)) return;
  if (accepting_.count(nodeId)) {
    // That node may be dialing us right now; dialing too would race it. Should that connection
    // turn out to be someone else claiming the id (it closes without a proof), dial then.
    deferredDials_[nodeId] = {host, port};
    return;
  }
  if (nodeId == cfg_.nodeId) {
    log(LogLevel::Error, "refusing to connect to myself (node " + std::to_string(nodeId) + ")");
    return;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) {
    log(LogLevel::Error, "cannot dial node " + std::to_string(nodeId) + ": \"" + host + "\" is not an IPv4 address");
    pending_.failures.push_back({nodeId, "bad address " + host, true});
    return;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log(LogLevel::Error, "socket: " + errnoText(errno));
    return;
  }
  setNoDelay(fd);
  auto c = std::make_shared<Conn>();
  c->owner = this;
  c->fd = fd;
  c->dialer = true;
  c->expectedPeer = nodeId;
  c->peer = nodeId;
  c->addr = host + ":" + std::to_string(port);
  c->rx.resize(kHandshakeRxBytes);
  c->handshakeDeadlineMs = nowMs() + cfg_.handshakeTimeoutMs;
  if (getrandom(c->myNonce, kNonceBytes, 0) != ssize_t(kNonceBytes)) {
    ::close(fd);
    return;
  }
  if (tlsCtx_) c->tls = std::make_unique<TlsSession>(*tlsCtx_, true);
  int r = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  conns_[c.get()] = c;
  dialing_[nodeId] = c.get();
  epoll_event ev{};
  ev.data.ptr = c.get();
  if (r == 0) {
    c->state = ConnState::WaitHelloAck;
    ev.events = EPOLLIN | EPOLLRDHUP;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    if (c->tls) startTls(*c);  // the Hello follows once the TLS handshake is done
    else sendHello(*c);
  } else if (errno == EINPROGRESS) {
    c->state = ConnState::Connecting;
    ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    c->wantOut = true;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  } else {
    int e = errno;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    closeConn(c.get(), "connect to " + c->addr + " failed: " + errnoText(e), LogLevel::Warn, true);
  }
}

void TcpProvider::mac(const char* label, const Conn& c, const std::string& secret, uint8_t out[kMacBytes]) {
  // Binds the proof to who proves (label), both fresh nonces and both node ids, so a recorded
  // proof is useless on any other connection.
  const uint8_t* dialerNonce = c.dialer ? c.myNonce : c.peerNonce;
  const uint8_t* acceptorNonce = c.dialer ? c.peerNonce : c.myNonce;
  uint32_t dialerId = c.dialer ? cfg_.nodeId : c.peer;
  uint32_t acceptorId = c.dialer ? c.peer : cfg_.nodeId;
  ByteSpan parts[] = {{label, strlen(label)},         {dialerNonce, kNonceBytes}, {acceptorNonce, kNonceBytes},
                      {&dialerId, sizeof dialerId}, {&acceptorId, sizeof acceptorId}};
  hmacSha256(secret.data(), secret.size(), parts, 5, out);
}

void TcpProvider::secretTag(const std::string& secret, uint8_t out[kSecretTagBytes]) {
  static const char label[] = "derecho-ts secret tag";
  ByteSpan part{label, sizeof label - 1};
  uint8_t full[kMacBytes];
  hmacSha256(secret.data(), secret.size(), &part, 1, full);
  std::memcpy(out, full, kSecretTagBytes);
}

void TcpProvider::sendHello(Conn& c) {
  HelloSub s{};
  s.protocolVersion = kProtocolVersion;
  s.nodeId = cfg_.nodeId;
  std::memcpy(s.nonce, c.myNonce, kNonceBytes);
  for (size_t i = 0; i < cfg_.secrets.size() && i < kMaxSecrets; ++i) secretTag(cfg_.secrets[i], s.secretTags[i]);
  sendFrame(c, FrameType::Hello, &s, sizeof s, cfg_.buildHash.data(), cfg_.buildHash.size());
}

void TcpProvider::reject(Conn& c, const std::string& code) {
  // `code` is one of a few fixed phrases: a peer that has not proved the secret learns nothing
  // about this node (its build, version or id); the details go to our own log.
  sendFrame(c, FrameType::Reject, nullptr, 0, code.data(), std::min(code.size(), kMaxReasonBytes));
}

void TcpProvider::establish(Conn& c) {
  c.state = ConnState::Established;
  c.dec.setAuthenticated(true);
  c.handshakeDeadlineMs = 0;
  releasePending(c);
  deferredDials_.erase(c.peer);
  if (c.dialer) {
    dialing_.erase(c.peer);
  } else {
    for (auto [a, end] = accepting_.equal_range(c.peer); a != end; ++a)
      if (a->second == &c) {
        accepting_.erase(a);
        break;
      }
  }
  {
    std::lock_guard<std::mutex> lk(peersMu_);
    peers_[c.peer] = conns_[&c];
  }
  if (jsEpfd_ >= 0) {
    // Edge-triggered: the JS side is told about new bytes once, and a partial frame it leaves in
    // the socket does not keep waking it; the rest of the frame is the next edge.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u32 = c.peer;
    epoll_ctl(jsEpfd_, EPOLL_CTL_ADD, c.fd, &ev);
  }
  pending_.connected.push_back(c.peer);
  log(LogLevel::Info, std::string("connected to node ") + std::to_string(c.peer) + " (" + c.addr + ", " +
                          (c.dialer ? "dialed" : "accepted") + ")");
  // Blocks of RDMC messages that were waiting for this connection can go now.
  for (auto& [id, g] : rdmc_) rdmcAdvance(g);
}

bool TcpProvider::refuseHandshake(Conn& c, const std::string& why, const char* code) {
  // `code` is all the peer is told (it may not be who it claims); `why` is the full local reason.
  if (code) reject(c, code);
  // A dial we refuse is a failed connect attempt for whoever asked for it, and a final one.
  c.refused = c.dialer;
  closeConn(&c, "handshake refused: " + why, LogLevel::Error, c.dialer);
  return false;
}

bool TcpProvider::onHandshakeFrame(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload) {
  FrameType t = static_cast<FrameType>(h.type);
  switch (c.state) {
    case ConnState::WaitHello:
      if (t != FrameType::Hello) return refuseHandshake(c, "expected a hello frame, got frame type " + std::to_string(h.type), nullptr);
      return onHello(c, h, sub, payload);
    case ConnState::WaitHelloAck:
      if (t == FrameType::Reject) return onRejectAsDialer(c, h, payload);
      if (t != FrameType::HelloAck) return refuseHandshake(c, "expected a hello-ack frame, got frame type " + std::to_string(h.type), nullptr);
      return onHelloAck(c, h, sub, payload);
    case ConnState::WaitProof:
      if (t == FrameType::Reject) return onRejectAsAcceptor(c, h, payload);
      if (t != FrameType::Proof) return refuseHandshake(c, "expected a proof frame, got frame type " + std::to_string(h.type), nullptr);
      return onProof(c, sub);
    default:
      return false;
  }
}

bool TcpProvider::onHello(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload) {
  HelloSub s;
  std::memcpy(&s, sub, sizeof s);
  std::string hash(reinterpret_cast<const char*>(payload), h.payloadLen);
  c.peer = s.nodeId;
  if (s.protocolVersion != kProtocolVersion)
    return refuseHandshake(c, "protocol version mismatch (peer " + std::to_string(s.protocolVersion) + ", ours " +
                      std::to_string(kProtocolVersion) + ")", "protocol version mismatch");
  if (hash != cfg_.buildHash)
    return refuseHandshake(c, "build hash mismatch (peer \"" + hex(hash, 64) + "\", ours \"" + hex(cfg_.buildHash, 64) + "\")", "build hash mismatch");
  if (s.nodeId == cfg_.nodeId) return refuseHandshake(c, "peer claims my own node id " + std::to_string(s.nodeId), "node id conflict");
  if (s.nodeId == kAnyNode) return refuseHandshake(c, "peer claims the reserved node id " + std::to_string(s.nodeId), "node id conflict");
  if (!checkCertificateClaim(c, s.nodeId)) return false;
  // One connection per pair: the dial of the lower node id wins. Only decisions that refuse
  // this (unproven) connection are taken here; what it would cost others (our own dial, another
  // connection claiming the same id) waits for its proof, so a bare claim cannot squat an id.
  bool havePeer;
  {
    std::lock_guard<std::mutex> lk(peersMu_);
    havePeer = peers_.count(s.nodeId) > 0;
  }
  auto d = dialing_.find(s.nodeId);
  if (havePeer || (d != dialing_.end() && cfg_.nodeId < s.nodeId)) {
    reject(c, "duplicate connection");
    c.superseded = true;
    closeConn(&c, "duplicate", LogLevel::Debug, false);
    return false;
  }
  std::memcpy(c.peerNonce, s.nonce, kNonceBytes);
  // Prove the first of our secrets the dialer holds too (our first if it holds none of them).
  c.secretIndex = 0;
  bool shared = false;
  for (size_t i = 0; i < cfg_.secrets.size() && !shared; ++i) {
    uint8_t tag[kSecretTagBytes];
    secretTag(cfg_.secrets[i], tag);
    for (size_t j = 0; j < kMaxSecrets && !shared; ++j)
      if (equalConstantTime(tag, s.secretTags[j], kSecretTagBytes)) {
        c.secretIndex = i;
        shared = true;
      }
  }
  accepting_.emplace(s.nodeId, &c);
  HelloAckSub a{};
  a.protocolVersion = kProtocolVersion;
  a.nodeId = cfg_.nodeId;
  std::memcpy(a.nonce, c.myNonce, kNonceBytes);
  mac("derecho-ts acceptor proof", c, cfg_.secrets[c.secretIndex], a.mac);
  c.state = ConnState::WaitProof;
  sendFrame(c, FrameType::HelloAck, &a, sizeof a, cfg_.buildHash.data(), cfg_.buildHash.size());
  return true;
}

bool TcpProvider::onRejectAsDialer(Conn& c, const FrameHeader& h, const uint8_t* payload) {
  std::string why(reinterpret_cast<const char*>(payload), h.payloadLen);
  if (why == "duplicate connection" && c.expectedPeer == kAnyNode) {
    // The contact already holds a connection from a node with my id, and it is not me.
    c.refused = true;
    closeConn(&c, "the node at " + c.addr + " already has a connection from a node with id " + std::to_string(cfg_.nodeId) +
                      ": is that id in use by another process?", LogLevel::Error, true);
  } else if (why == "duplicate connection") {
    c.superseded = true;
    closeConn(&c, "duplicate", LogLevel::Debug, false);
  } else {
    c.refused = true;
    std::string who = c.expectedPeer == kAnyNode ? "the node at " + c.addr : "node " + std::to_string(c.peer);
    std::string ours = why == "build hash mismatch" ? " (ours \"" + hex(cfg_.buildHash, 64) + "\")"
                       : why == "protocol version mismatch" ? " (ours " + std::to_string(kProtocolVersion) + ")"
                       : why == "TLS required" ? " (this node is configured without TLS; security.tls must be set on every member or on none)"
                                               : "";
    closeConn(&c, who + " refused our connection: " + hex(why, 128) + ours, LogLevel::Error, true);
  }
  return false;
}

bool TcpProvider::onHelloAck(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload) {
  HelloAckSub s;
  std::memcpy(&s, sub, sizeof s);
  std::string hash(reinterpret_cast<const char*>(payload), h.payloadLen);
  if (s.protocolVersion != kProtocolVersion)
    return refuseHandshake(c, "protocol version mismatch (peer " + std::to_string(s.protocolVersion) + ", ours " +
                      std::to_string(kProtocolVersion) + ")", "protocol version mismatch");
  if (hash != cfg_.buildHash)
    return refuseHandshake(c, "build hash mismatch (peer \"" + hex(hash, 64) + "\", ours \"" + hex(cfg_.buildHash, 64) + "\")", "build hash mismatch");
  if (c.expectedPeer == kAnyNode) {
    // A dial by address only (a joiner knows the contact's address, not its id): the
    // answer names the peer, and from here on the connection is that node's.
    auto any = dialing_.find(kAnyNode);
    if (any != dialing_.end() && any->second == &c) dialing_.erase(any);
    bool known;
    {
      std::lock_guard<std::mutex> lk(peersMu_);
      known = peers_.count(s.nodeId) > 0;
    }
    if (s.nodeId == kAnyNode || s.nodeId == cfg_.nodeId) return refuseHandshake(c, "the node at " + c.addr + " claims node id " + std::to_string(s.nodeId), "node id conflict");
    if (known || dialing_.count(s.nodeId) || accepting_.count(s.nodeId)) {
      c.superseded = true;
      closeConn(&c, "duplicate", LogLevel::Debug, false);
      if (known) pending_.connected.push_back(s.nodeId);
      return false;
    }
    c.expectedPeer = s.nodeId;
    c.peer = s.nodeId;
    dialing_[s.nodeId] = &c;
  }
  if (!checkCertificateClaim(c, s.nodeId)) return false;
  if (s.nodeId != c.expectedPeer)
    return refuseHandshake(c, "dialed node " + std::to_string(c.expectedPeer) + " but node " + std::to_string(s.nodeId) + " answered", "node id conflict");
  std::memcpy(c.peerNonce, s.nonce, kNonceBytes);
  // Any of our secrets is accepted; the one the acceptor proved is the one we prove back.
  bool proved = false;
  for (size_t i = 0; i < cfg_.secrets.size() && !proved; ++i) {
    uint8_t expect[kMacBytes];
    mac("derecho-ts acceptor proof", c, cfg_.secrets[i], expect);
    if (equalConstantTime(expect, s.mac, kMacBytes)) {
      c.secretIndex = i;
      proved = true;
    }
  }
  if (!proved)
    return refuseHandshake(c, "node " + std::to_string(s.nodeId) + " failed to prove the cluster secret (wrong secret?)", "authentication failed (wrong cluster secret?)");
  ProofSub p{};
  mac("derecho-ts dialer proof", c, cfg_.secrets[c.secretIndex], p.mac);
  sendFrame(c, FrameType::Proof, &p, sizeof p, nullptr, 0);
  establish(c);
  return true;
}

bool TcpProvider::onRejectAsAcceptor(Conn& c, const FrameHeader& h, const uint8_t* payload) {
  std::string why(reinterpret_cast<const char*>(payload), h.payloadLen);
  closeConn(&c, "node " + std::to_string(c.peer) + " (unauthenticated) refused the connection: " + hex(why, 128), LogLevel::Error, false);
  return false;
}

bool TcpProvider::onProof(Conn& c, const uint8_t* sub) {
  ProofSub p;
  std::memcpy(&p, sub, sizeof p);
  bool proved = false;
  for (size_t i = 0; i < cfg_.secrets.size() && !proved; ++i) {
    uint8_t expect[kMacBytes];
    mac("derecho-ts dialer proof", c, cfg_.secrets[i], expect);
    proved = equalConstantTime(expect, p.mac, kMacBytes);
  }
  if (!proved)
    return refuseHandshake(c, "node " + std::to_string(c.peer) + " failed to prove the cluster secret (wrong secret?)", "authentication failed (wrong cluster secret?)");
  // Proven: now the id is this connection's. Another connection that proved the same id first
  // keeps it (two processes with one id: the later one is refused).
  bool havePeer;
  {
    std::lock_guard<std::mutex> lk(peersMu_);
    havePeer = peers_.count(c.peer) > 0;
  }
  if (havePeer) {
    reject(c, "duplicate connection");
    closeConn(&c, "node " + std::to_string(c.peer) + " is already connected; a second connection proved the same id (two processes with one id?)",
              LogLevel::Error, false);
    return false;
  }
  auto d = dialing_.find(c.peer);
  if (d != dialing_.end()) {
    // Its dial beat ours (its id is lower; otherwise it was refused at its hello).
    Conn* mine = d->second;
    mine->superseded = true;
    closeConn(mine, "superseded by the peer's dial", LogLevel::Debug, false);
  }
  establish(c);
  return true;
}

}  // namespace dts
