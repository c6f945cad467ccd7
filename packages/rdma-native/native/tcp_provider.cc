// The TCP provider: one listening socket, one connection per peer pair, one epoll I/O thread.
//
// Send path: the JS thread writes a frame inline when the connection's queue is empty (lowest
// latency); whatever the kernel does not take is queued and the I/O thread finishes it on EPOLLOUT.
// Receive path: the I/O thread decodes frames; SST puts are appended to a batch the JS thread
// applies in one poll() call; P2P payloads and RDMC blocks are received straight into their final
// buffers. Notifications to JS are coalesced: `wake` runs only when the batch goes from empty to
// non-empty (wakePending_), and poll() clears it.
#include "tcp_provider.h"

namespace dts {

static int kListenTag, kEventTag;

std::unique_ptr<Provider> makeTcpProvider() { return std::make_unique<TcpProvider>(); }

uint16_t TcpProvider::start(const ProviderConfig& config, std::function<void()> wake) {
  cfg_ = config;
  wake_ = std::move(wake);
  if (cfg_.secrets.empty()) throw std::runtime_error("at least one cluster secret is required");
  if (cfg_.secrets.size() > kMaxSecrets)
    throw std::runtime_error("at most " + std::to_string(kMaxSecrets) + " cluster secrets (the new one and the ones it replaces)");
  if (!cfg_.tlsCaPem.empty() || !cfg_.tlsCertPem.empty() || !cfg_.tlsKeyPem.empty()) {
    tlsCtx_ = std::make_unique<TlsContext>(cfg_.tlsCaPem, cfg_.tlsCertPem, cfg_.tlsKeyPem);
    // The JS-thread reader peeks at plaintext frames in the socket; with TLS the I/O thread
    // decrypts everything.
    cfg_.receiveOnJsThread = false;
  }
  listenFd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0) throw std::runtime_error("socket: " + errnoText(errno));
  int one = 1;
  setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(cfg_.port);
  if (inet_pton(AF_INET, cfg_.host.c_str(), &sa.sin_addr) != 1) {
    ::close(listenFd_);
    listenFd_ = -1;
    throw std::runtime_error("host must be an IPv4 address, got \"" + cfg_.host + "\"");
  }
  if (bind(listenFd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(listenFd_, 128) != 0) {
    int e = errno;
    ::close(listenFd_);
    listenFd_ = -1;
    throw std::runtime_error("cannot listen on " + cfg_.host + ":" + std::to_string(cfg_.port) + ": " + errnoText(e));
  }
  socklen_t len = sizeof sa;
  getsockname(listenFd_, reinterpret_cast<sockaddr*>(&sa), &len);
  uint16_t port = ntohs(sa.sin_port);
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &kListenTag;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, listenFd_, &ev);
  ev.data.ptr = &kEventTag;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
  if (cfg_.receiveOnJsThread) jsEpfd_ = epoll_create1(EPOLL_CLOEXEC);
  lastDrainMs_.store(nowMs());
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return port;
}

void TcpProvider::command(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lk(cmdMu_);
    cmds_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t r = write(evfd_, &one, sizeof one);
  (void)r;
}

void TcpProvider::log(LogLevel level, std::string msg) {
  pending_.logs.push_back({level, "node " + std::to_string(cfg_.nodeId) + ": " + std::move(msg)});
}

void TcpProvider::flushPending() {
  if (pending_.empty()) return;
  {
    std::lock_guard<std::mutex> lk(inboxMu_);
    inbox_.appendFrom(pending_);
  }
  requestWake();
}

void TcpProvider::requestWake() {
  if (wakePending_.load()) return;
  wakeRequestedMs_.store(nowMs(), std::memory_order_relaxed);
  if (!wakePending_.exchange(true)) wake_();
}

void TcpProvider::drain(EventBatch& out, bool receiveInline) {
  flush();  // a poll is also a flush point for batched puts (busy-polling loops never yield)
  lastDrainMs_.store(nowMs(), std::memory_order_relaxed);
  // Cleared before taking the batch, so anything appended after the swap wakes JS again.
  wakePending_.store(false);
  {
    std::lock_guard<std::mutex> lk(inboxMu_);
    std::swap(out, inbox_);
  }
  if ((!receiveInline && !cfg_.receiveOnJsThread) || tlsCtx_) return;
  inlineActiveUntilMs_.store(nowMs() + cfg_.busyPollWindowMs, std::memory_order_relaxed);
  thread_local std::vector<std::shared_ptr<Conn>> conns;
  conns.clear();
  {
    std::lock_guard<std::mutex> lk(peersMu_);
    for (auto& [id, c] : peers_) conns.push_back(c);
  }
  for (auto& c : conns) {
    std::unique_lock<std::recursive_mutex> rx(c->rxMu, std::try_to_lock);
    if (!rx.owns_lock()) continue;  // the I/O thread is reading it right now
    if (c->fd < 0 || c->state != ConnState::Established || !c->dec.atBoundary()) continue;
    {
      std::lock_guard<std::mutex> lk(inboxMu_);
      out.appendFrom(inbox_);  // older writes of this connection, flushed since the swap
    }
    receiveInlineFrom(*c, out);
  }
  conns.clear();
}

void TcpProvider::receiveInlineFrom(Conn& c, EventBatch& out) {
  // Only whole, valid Put/PutAck/P2P frames are taken; anything else (or anything malformed) stays in
  // the socket for the I/O thread, which owns every other frame type and the error path.
  thread_local std::vector<uint8_t> buf(64 * 1024);
  for (;;) {
    ssize_t n = recv(c.fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) return;
    size_t at = 0, avail = size_t(n);
    std::vector<uint64_t> acks;
    std::string why;
    bool needIoThread = false;
    while (avail - at >= sizeof(FrameHeader)) {
      FrameHeader h;
      std::memcpy(&h, buf.data() + at, sizeof h);
      FrameType t = static_cast<FrameType>(h.type);
      uint64_t frameLen = sizeof h + h.subLen + h.payloadLen;
      bool inlineType = t == FrameType::Put || t == FrameType::PutAck || t == FrameType::P2P;
      if (!FrameDecoder::validateHeader(h, why) || !inlineType || frameLen > buf.size()) {
        needIoThread = true;
        break;
      }
      if (avail - at < frameLen) break;
      const uint8_t* sub = buf.data() + at + sizeof h;
      const uint8_t* payload = sub + h.subLen;
      if (t == FrameType::Put) {
        if (!FrameDecoder::validateSub(h, sub, why) || !FrameDecoder::validatePutPayload(h, sub, payload, why)) {
          needIoThread = true;
          break;
        }
        PutSub s;
        std::memcpy(&s, sub, sizeof s);
        if (s.ackSeq) acks.push_back(s.ackSeq);
        PutRecordHeader r{c.peer, s.regionId, s.rangeCount, uint32_t(h.payloadLen - s.rangeCount * sizeof(PutRange))};
        const uint8_t* rp = reinterpret_cast<const uint8_t*>(&r);
        out.puts.insert(out.puts.end(), rp, rp + sizeof r);
        out.puts.insert(out.puts.end(), payload, payload + h.payloadLen);
        ++out.putCount;
        putsInline_.fetch_add(1, std::memory_order_relaxed);
      } else if (t == FrameType::P2P) {
        // Small P2P messages (RPC calls and replies, control messages) are as latency-bound as
        // SST writes: taken here too, in stream order with the writes around them.
        uint8_t* data = nullptr;
        if (h.payloadLen > 0) {
          data = static_cast<uint8_t*>(std::malloc(h.payloadLen));
          if (data == nullptr) {
            needIoThread = true;  // the I/O thread reports running out of memory
            break;
          }
          std::memcpy(data, payload, h.payloadLen);
        }
        markKnown(c.peer);
        out.p2p.push_back({c.peer, data, h.payloadLen});
      } else {
        PutAckSub a;
        std::memcpy(&a, sub, sizeof a);
        std::lock_guard<std::mutex> lk(c.sendMu);
        if (a.ackSeq == 0 || a.ackSeq >= c.nextAckSeq) {
          needIoThread = true;  // it reports the violation and drops the connection
          break;
        }
        while (!c.pendingAcks.empty() && c.pendingAcks.front().first <= a.ackSeq) c.pendingAcks.pop_front();
      }
      at += size_t(frameLen);
    }
    // A partial frame left in the socket can pin the receive window shut: the kernel counts the
    // whole segment it arrived in against the buffer until it is read, may advertise a zero
    // window, and the writer then never sends the rest. The I/O thread reads it into its decoder.
    if (!needIoThread && at < avail && size_t(n) < buf.size()) needIoThread = true;
    if (needIoThread && !c.unparkRequested.exchange(true)) {
      // A frame only the I/O thread handles (or an error it must report) is next: have it listen.
      Conn* cp = &c;
      command([this, cp] { unpark(cp); });
    }
    if (at == 0) return;
    // Consume exactly what was taken. (Not with MSG_TRUNC to skip the second copy: on this kernel
    // that path sends no window update, and a fast writer stalls on a zero window for seconds.)
    ssize_t r = recv(c.fd, buf.data(), at, MSG_DONTWAIT);
    (void)r;
    for (uint64_t seq : acks) {
      PutAckSub a{seq};
      sendFrame(c, FrameType::PutAck, &a, sizeof a, nullptr, 0);
    }
    // Stop when the peek saw everything the socket held: what is left is a partial frame whose
    // remaining bytes will raise the next edge. A full peek may have cut a frame short that is
    // already complete in the socket, and no edge will announce it again: read on.
    if (size_t(n) < buf.size() || needIoThread) return;
  }
}

void TcpProvider::run() {
  epoll_event events[64];
  for (;;) {
    if (stop_.load()) {
      // Graceful close: keep writing what callers already sent, for at most lingerMs.
      if (stopDeadlineMs_ == 0) stopDeadlineMs_ = nowMs() + cfg_.lingerMs;
      bool queued = false;
      for (auto& [c, sp] : conns_) {
        std::lock_guard<std::mutex> lk(c->sendMu);
        if (hasUnsentLocked(*c) && !c->sendClosed) queued = true;
      }
      if (!queued || nowMs() >= stopDeadlineMs_) break;
    }
    int timeoutMs = stop_.load() || (!parked_.empty() && !cfg_.receiveOnJsThread) ? 1 : int(std::max<uint32_t>(2, std::min<uint32_t>(100, cfg_.heartbeatTimeoutMs / 8)));
    uint64_t iterationStartMs = nowMs();
    int n = epoll_wait(epfd_, events, 64, timeoutMs);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &kListenTag) {
        handleAccept();
      } else if (tag == &kEventTag) {
        uint64_t v;
        ssize_t r = read(evfd_, &v, sizeof v);
        (void)r;
        std::vector<std::function<void()>> cmds;
        {
          std::lock_guard<std::mutex> lk(cmdMu_);
          cmds.swap(cmds_);
        }
        for (auto& fn : cmds) fn();
      } else {
        Conn* c = static_cast<Conn*>(tag);
        if (conns_.count(c)) handleConn(c, events[i].events);
      }
    }
    if (!parked_.empty() && !inlineActive(nowMs())) unparkAll();
    creditUnobservedTime(iterationStartMs, nowMs(), timeoutMs);
    checkTimers();
    flushPending();
    graveyard_.clear();
  }
}

void TcpProvider::unparkAll() {
  for (Conn* c : parked_)
    if (conns_.count(c)) setParked(*c, false);
  parked_.clear();
}

void TcpProvider::unpark(Conn* c) {
  if (!conns_.count(c)) return;  // closed meanwhile
  c->unparkRequested.store(false);
  setParked(*c, false);  // EPOLLIN fires at once for what is waiting
}

void TcpProvider::checkTimers() {
  uint64_t now = nowMs();
  std::vector<std::pair<Conn*, std::string>> expired;
  for (auto& [c, sp] : conns_) {
    if (c->state != ConnState::Established) {
      if (c->handshakeDeadlineMs && now > c->handshakeDeadlineMs)
        expired.push_back({c, "handshake not finished within " + std::to_string(cfg_.handshakeTimeoutMs) + " ms"});
      continue;
    }
    std::lock_guard<std::mutex> lk(c->sendMu);
    if (!c->pendingAcks.empty() && now > c->pendingAcks.front().second)
      expired.push_back({c, "put completion not acknowledged within " + std::to_string(cfg_.heartbeatTimeoutMs) + " ms"});
  }
  for (auto& [c, why] : expired) closeConn(c, why, LogLevel::Warn, true);
}

void TcpProvider::expectPeers(const std::vector<uint32_t>& nodeIds) {
  std::lock_guard<std::mutex> lk(knownMu_);
  known_.insert(nodeIds.begin(), nodeIds.end());
}

void TcpProvider::markKnown(uint32_t nodeId) {
  std::lock_guard<std::mutex> lk(knownMu_);
  known_.insert(nodeId);
}

bool TcpProvider::isKnown(uint32_t nodeId) {
  std::lock_guard<std::mutex> lk(knownMu_);
  return known_.count(nodeId) > 0;
}

bool TcpProvider::sendFrame(Conn& c, FrameType type, const void* sub, size_t subLen, const void* payload, size_t payloadLen) {
  FrameHeader h = makeHeader(type, uint32_t(subLen), payloadLen);
  iovec iov[3] = {{&h, sizeof h}, {const_cast<void*>(sub), subLen}, {const_cast<void*>(payload), payloadLen}};
  static const std::shared_ptr<void> none;
  return sendv(c, iov, 3, none);
}

std::shared_ptr<Conn> TcpProvider::peerConn(uint32_t nodeId) {
  std::lock_guard<std::mutex> lk(peersMu_);
  auto it = peers_.find(nodeId);
  return it == peers_.end() ? nullptr : it->second;
}

std::vector<uint32_t> TcpProvider::connectedPeers() {
  std::lock_guard<std::mutex> lk(peersMu_);
  std::vector<uint32_t> out;
  for (auto& [id, c] : peers_) out.push_back(id);
  return out;
}

bool TcpProvider::flushOut(Conn& c) {
  if (c.tls) return flushOutTls(c);
  while (!c.q.empty()) {
    iovec iov[kMaxIov];
    int n = 0;
    for (auto it = c.q.begin(); it != c.q.end() && n < kMaxIov; ++it, ++n) {
      const uint8_t* base = it->ext ? it->ext : c.owned.data() + it->off;
      size_t skip = n == 0 ? c.frontDone : 0;
      iov[n].iov_base = const_cast<uint8_t*>(base + skip);
      iov[n].iov_len = it->len - skip;
    }
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = size_t(n);
    ssize_t w = sendmsg(c.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      return false;
    }
    size_t left = size_t(w);
    while (left > 0 && !c.q.empty()) {
      OutSeg& f = c.q.front();
      size_t rem = f.len - c.frontDone;
      if (left >= rem) {
        left -= rem;
        if (!f.ext) c.ownedHead = f.off + f.len;
        c.q.pop_front();
        c.frontDone = 0;
      } else {
        c.frontDone += left;
        left = 0;
      }
    }
  }
  c.owned.clear();
  c.ownedHead = 0;
  return true;
}

bool TcpProvider::sendv(Conn& c, const struct iovec* iov, int n, const std::shared_ptr<void>& keep) {
  std::lock_guard<std::mutex> lk(c.sendMu);
  return sendvLocked(c, iov, n, keep);
}

bool TcpProvider::sendvLocked(Conn& c, const struct iovec* iov, int n, const std::shared_ptr<void>& keep) {
  if (c.sendClosed) return false;
  if (c.tls) return tlsSendvLocked(c, iov, n, keep);
  size_t skip = 0;
  if (c.q.empty() && c.state != ConnState::Connecting) {
    size_t total = 0;
    for (int i = 0; i < n; ++i) total += iov[i].iov_len;
    msghdr mh{};
    mh.msg_iov = const_cast<iovec*>(iov);
    mh.msg_iovlen = size_t(n);
    ssize_t w;
    do {
      w = sendmsg(c.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      // The I/O thread sees the same error on the socket and reports the failure.
      return false;
    }
    if (w > 0) skip = size_t(w);
    if (skip == total) return true;
  }
  if (!queueLocked(c, iov, n, skip, keep)) return false;
  if (!c.wantOut) {
    c.wantOut = true;
    armLocked(c);
  }
  return true;
}

bool TcpProvider::queueLocked(Conn& c, const struct iovec* iov, int n, size_t skip, const std::shared_ptr<void>& keep) {
  // Queue what the kernel did not take. Small pieces are copied (the caller's memory may change);
  // pieces with a keep-alive (RDMC blocks) are referenced in place.
  for (int i = 0; i < n; ++i) {
    size_t len = iov[i].iov_len;
    const uint8_t* p = static_cast<const uint8_t*>(iov[i].iov_base);
    if (skip >= len) {
      skip -= len;
      continue;
    }
    p += skip;
    len -= skip;
    skip = 0;
    if (keep && i == n - 1) {
      c.q.push_back({p, 0, len, keep});
    } else {
      if (c.owned.size() - c.ownedHead + len > kMaxOwnedQueueBytes) {
        c.sendClosed = true;
        c.sendFailure = "the peer fell more than " + std::to_string(kMaxOwnedQueueBytes >> 20) + " MiB behind on sends";
        shutdown(c.fd, SHUT_RDWR);  // the I/O thread reports it
        return false;
      }
      // Reclaim the consumed front of the owned buffer before it grows without bound.
      if (c.ownedHead > (1u << 20) && c.ownedHead * 2 > c.owned.size()) {
        c.owned.erase(c.owned.begin(), c.owned.begin() + long(c.ownedHead));
        for (auto& s : c.q)
          if (!s.ext) s.off -= c.ownedHead;
        c.ownedHead = 0;
      }
      size_t off = c.owned.size();
      c.owned.insert(c.owned.end(), p, p + len);
      if (!c.q.empty() && !c.q.back().ext && c.q.back().off + c.q.back().len == off) {
        c.q.back().len += len;
      } else {
        c.q.push_back({nullptr, off, len, nullptr});
      }
    }
  }
  return true;
}

void TcpProvider::armLocked(Conn& c) {
  epoll_event ev{};
  ev.events = EPOLLRDHUP | (c.parked ? 0u : uint32_t(EPOLLIN)) | (c.wantOut ? uint32_t(EPOLLOUT) : 0u);
  ev.data.ptr = &c;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

bool TcpProvider::inlineActive(uint64_t now) const {
  // Receiving on the JS thread holds only while that thread takes its batches: when it has not for
  // jsTakeoverMs (a long handler, GC, an idle loop) this thread reads its connections for it, so
  // acknowledgements (ours to peers' heartbeats, theirs to ours) do not wait for JS.
  if (cfg_.receiveOnJsThread) return now <= lastDrainMs_.load(std::memory_order_relaxed) + jsTakeoverMs();
  return now < inlineActiveUntilMs_.load(std::memory_order_relaxed);
}

uint64_t TcpProvider::jsTakeoverMs() const {
  // Well inside the failure timeout (an ack waits at most this plus one epoll timeout), long enough
  // that a JS thread busy with a large batch does not hand its connections back and forth.
  return std::max<uint64_t>(10, cfg_.heartbeatTimeoutMs / 4);
}

bool TcpProvider::withholdAcks(uint64_t now) {
  if (cfg_.blockedLoopLimitMs == 0 || !wakePending_.load()) {
    ackWithholdLogged_ = false;
    return false;
  }
  uint64_t since = wakeRequestedMs_.load(std::memory_order_relaxed);
  if (now < since + cfg_.blockedLoopLimitMs) {
    ackWithholdLogged_ = false;
    return false;
  }
  if (!ackWithholdLogged_) {
    ackWithholdLogged_ = true;
    log(LogLevel::Error, "the JS event loop has not run for " + std::to_string(now - since) + " ms (blockedLoopLimitMs " +
                             std::to_string(cfg_.blockedLoopLimitMs) + "): heartbeats are no longer acknowledged, so peers will suspect this node");
  }
  return true;
}

void TcpProvider::creditUnobservedTime(uint64_t iterationStartMs, uint64_t now, int waitTimeoutMs) {
  // An iteration (epoll_wait with its timeout, then the events) that took far longer than the
  // timeout means this thread was mostly not running (SIGSTOP, a suspended VM, a starved machine):
  // it could not observe anything then, and the acknowledgements peers sent meanwhile are still
  // unread in the sockets. That time does not count towards any deadline, or a member waking from
  // a pause would fail every peer before reading their answers. Each iteration still counts at
  // least timeout + slack, so a dead peer is always detected, at worst a little later.
  constexpr uint64_t kObservedPerIterationMs = 50;
  uint64_t tookMs = now - iterationStartMs;
  uint64_t observedMs = uint64_t(waitTimeoutMs) + kObservedPerIterationMs;
  if (tookMs <= observedMs) return;
  uint64_t creditMs = tookMs - observedMs;
  for (auto& [c, sp] : conns_) {
    if (c->handshakeDeadlineMs) c->handshakeDeadlineMs += creditMs;
    std::lock_guard<std::mutex> lk(c->sendMu);
    for (auto& a : c->pendingAcks) a.second += creditMs;
  }
}

void TcpProvider::clearJsReady() {
  if (jsEpfd_ < 0) return;
  epoll_event evs[64];
  while (epoll_wait(jsEpfd_, evs, 64, 0) == 64) {
  }
}

bool TcpProvider::setParked(Conn& c, bool parked) {
  std::lock_guard<std::mutex> lk(c.sendMu);
  if (c.sendClosed || c.parked == parked) return false;
  c.parked = parked;
  armLocked(c);
  return true;
}

void TcpProvider::handleConn(Conn* c, uint32_t events) {
  if (c->state == ConnState::Connecting) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        closeConn(c, "connect to " + c->addr + " failed: " + errnoText(err), LogLevel::Warn, true);
        return;
      }
      c->state = ConnState::WaitHelloAck;
      if (c->tls) startTls(*c);  // the Hello follows once the TLS handshake is done
      else sendHello(*c);
    }
  }
  if (events & (EPOLLIN | EPOLLRDHUP)) {
    bool parkedNow = false;
    {
      std::lock_guard<std::recursive_mutex> rx(c->rxMu);
      readConn(c);
      // Published before the lock is released, so an inline drain that takes the lock next finds
      // these writes ahead of the ones it reads itself.
      flushPending();
      if (!conns_.count(c)) return;
      // JS is busy-polling (or receives on its own thread): let it read what comes next itself
      // (only between frames, so nothing half-decoded waits on a thread that no longer listens).
      if (c->state == ConnState::Established && c->dec.atBoundary() && inlineActive(nowMs())) {
        if (setParked(*c, true)) {
          parked_.push_back(c);
          parkedNow = true;
        }
      }
    }
    // Bytes that came after this thread's last read raised their edge while it still held the
    // socket, and the JS side could not take them then: have it look again now.
    if (parkedNow && jsEpfd_ >= 0) requestWake();
  }
  if (events & (EPOLLERR | EPOLLHUP)) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    closeConn(c, err ? "connection error: " + errnoText(err) : "connection closed by peer", LogLevel::Warn, true);
    return;
  }
  if (events & EPOLLOUT) {
    std::lock_guard<std::mutex> lk(c->sendMu);
    if (!flushOut(*c)) {
      c->sendClosed = true;
    } else if (!hasUnsentLocked(*c) && c->wantOut) {
      c->wantOut = false;
      armLocked(*c);
    }
  }
  if (c->sendClosed.load()) closeConn(c, "send failed or send queue overflow", LogLevel::Warn, true);
}

void TcpProvider::readConn(Conn* c) {
  size_t budget = kMaxReadPerEvent;
  // Bytes TLS already took from the socket raise no epoll event: read them within this one.
  while (budget > 0 || (c->tls && c->tls->buffered())) {
    uint8_t* p;
    size_t len;
    bool direct = c->dec.directSpan(&p, &len);
    if (!direct && c->state == ConnState::Established && c->rx.size() < kRxBytes) c->rx.resize(kRxBytes);
    if (!direct) {
      p = c->rx.data();
      len = c->headerOnlyRead && c->dec.atBoundary() ? sizeof(FrameHeader) + sizeof(RdmcBlockSub) : c->rx.size();
      c->headerOnlyRead = false;
    }
    ssize_t r = c->tls ? tlsRecv(*c, p, len) : recv(c->fd, p, len, MSG_DONTWAIT);
    if (r == -2) return;  // tlsRecv closed it
    if (r > 0 && !c->tls && !c->dialer && !c->sawFirstByte) {
      c->sawFirstByte = true;
      if (p[0] == 0x16) {  // a TLS ClientHello, not our Hello
        refusePlaintextPeer(*c, p[0]);
        return;
      }
    }
    if (r == 0) {
      std::string why = c->state == ConnState::Established ? "connection closed by peer"
                                                           : "connection closed during the handshake";
      if (!c->dec.atBoundary()) why += " (in the middle of a frame)";
      closeConn(c, why, LogLevel::Warn, true);
      return;
    }
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      closeConn(c, "receive failed: " + errnoText(errno), LogLevel::Warn, true);
      return;
    }
    budget -= std::min(budget, size_t(r));
    bool ok = direct ? c->dec.directFilled(size_t(r), *c) : c->dec.feed(p, size_t(r), *c);
    if (!conns_.count(c)) return;  // a frame handler closed it
    if (!ok) {
      std::string who = c->state == ConnState::Established ? "node " + std::to_string(c->peer) : "unauthenticated peer";
      closeConn(c, "malformed frame from " + who + " at " + c->addr + ": " + c->dec.error() + "; dropping the connection",
                LogLevel::Error, true);
      return;
    }
  }
}

void TcpProvider::closeConn(Conn* c, const std::string& givenReason, LogLevel level, bool failure) {
  auto it = conns_.find(c);
  if (it == conns_.end()) return;
  std::string reason = givenReason;
  {
    std::lock_guard<std::mutex> lk(c->sendMu);
    if (!c->sendFailure.empty()) reason = c->sendFailure;
  }
  std::shared_ptr<Conn> keep = it->second;
  std::lock_guard<std::recursive_mutex> rx(c->rxMu);  // an inline drain may be reading this socket
  bool wasEstablished = c->state == ConnState::Established;
  {
    std::lock_guard<std::mutex> lk(c->sendMu);
    c->sendClosed = true;
    c->q.clear();
    c->owned.clear();
    c->pendingAcks.clear();
  }
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
  if (jsEpfd_ >= 0) epoll_ctl(jsEpfd_, EPOLL_CTL_DEL, c->fd, nullptr);
  ::close(c->fd);
  c->fd = -1;
  c->state = ConnState::Closed;
  if (c->dialer) {
    auto d = dialing_.find(c->expectedPeer);
    if (d != dialing_.end() && d->second == c) dialing_.erase(d);
  } else if (c->peer != UINT32_MAX) {
    for (auto [a, end] = accepting_.equal_range(c->peer); a != end; ++a)
      if (a->second == c) {
        accepting_.erase(a);
        break;
      }
    auto deferred = deferredDials_.find(c->peer);
    if (!wasEstablished && deferred != deferredDials_.end() && !accepting_.count(c->peer)) {
      // The connection that claimed this id never proved it: make the dial we held back.
      auto [host, port] = deferred->second;
      uint32_t id = c->peer;
      deferredDials_.erase(deferred);
      command([this, id, host = host, port = port] { dialNow(id, host, port); });
    }
  }
  releasePending(*c);
  if (wasEstablished) {
    std::lock_guard<std::mutex> lk(peersMu_);
    auto p = peers_.find(c->peer);
    if (p != peers_.end() && p->second.get() == c) peers_.erase(p);
  }
  graveyard_.push_back(keep);
  conns_.erase(it);
  std::string who = c->peer != UINT32_MAX ? "node " + std::to_string(c->peer) + " (" + c->addr + ")" : c->addr;
  if (!c->superseded) log(level, "connection to " + who + " dropped: " + reason);
  if (failure && !c->superseded && (c->peer != UINT32_MAX || c->dialer) && (wasEstablished || c->dialer)) {
    // A node this process never dealt with (not dialed, in no region or group, sent no message)
    // is not a failure of anything the application knows: the log line above is all.
    if (c->dialer || isKnown(c->peer)) pending_.failures.push_back({c->peer, reason, c->refused});
    else log(LogLevel::Info, "node " + std::to_string(c->peer) + " was not a member of anything here: no failure reported");
  }
}

// ---- SST puts (JS thread) ----

bool TcpProvider::put(uint32_t regionId, const uint8_t* row, const PutRange* ranges, uint32_t rangeCount,
                      const uint32_t* targets, size_t targetCount, bool completion) {
  bool corkedAny = false;
  uint64_t dataBytes = 0;
  for (uint32_t i = 0; i < rangeCount; ++i) dataBytes += ranges[i].length;
  uint64_t payloadLen = rangeCount * sizeof(PutRange) + dataBytes;
  // One gather list per put, shared by every target: header+sub+table in a small stack buffer,
  // then the row ranges straight from JS memory (copied only if the kernel does not take them).
  thread_local std::vector<iovec> iov;
  thread_local std::vector<uint8_t> head;
  head.resize(sizeof(FrameHeader) + sizeof(PutSub) + rangeCount * sizeof(PutRange));
  FrameHeader h = makeHeader(FrameType::Put, sizeof(PutSub), payloadLen);
  std::memcpy(head.data(), &h, sizeof h);
  std::memcpy(head.data() + sizeof h + sizeof(PutSub), ranges, rangeCount * sizeof(PutRange));
  iov.resize(1 + rangeCount);
  iov[0] = {head.data(), head.size()};
  for (uint32_t i = 0; i < rangeCount; ++i) iov[1 + i] = {const_cast<uint8_t*>(row + ranges[i].offset), ranges[i].length};
  static const std::shared_ptr<void> none;
  for (size_t t = 0; t < targetCount; ++t) {
    std::shared_ptr<Conn> c = peerConn(targets[t]);
    if (!c) continue;  // not connected (yet or any more): the failure path reports it
    PutSub s{regionId, rangeCount, 0};
    if (completion) {
      std::lock_guard<std::mutex> lk(c->sendMu);
      s.ackSeq = c->nextAckSeq++;
      c->pendingAcks.push_back({s.ackSeq, nowMs() + cfg_.heartbeatTimeoutMs});
    }
    std::memcpy(head.data() + sizeof h, &s, sizeof s);
    if (!cfg_.batchPuts || dataBytes >= kDirectPutBytes) {
      // A large put gains nothing from the cork (it would fill it alone) and would cost a copy
      // per target: write it straight from the row, after what is corked (order is kept).
      if (cfg_.batchPuts) flushCork(*c);
      sendv(*c, iov.data(), int(iov.size()), none);
      continue;
    }
    // Batched: the frame is copied into the connection's cork buffer (JS-thread only) and goes
    // out with the others in one write at the next flush().
    if (c->cork.empty()) corked_.push_back(c);
    for (const iovec& v : iov) {
      const uint8_t* p = static_cast<const uint8_t*>(v.iov_base);
      c->cork.insert(c->cork.end(), p, p + v.iov_len);
    }
    corkedAny = true;
    if (c->cork.size() >= kCorkFlushBytes) flushCork(*c);
  }
  return corkedAny;
}

void TcpProvider::flushCork(Conn& c) {
  if (c.cork.empty()) return;
  iovec v{c.cork.data(), c.cork.size()};
  static const std::shared_ptr<void> none;
  sendv(c, &v, 1, none);
  c.cork.clear();
}

void TcpProvider::flush() {
  for (auto& c : corked_) flushCork(*c);
  corked_.clear();
}

bool TcpProvider::sendP2P(uint32_t nodeId, const struct iovec* chunks, size_t chunkCount) {
  std::shared_ptr<Conn> c = peerConn(nodeId);
  if (!c) return false;
  flushCork(*c);  // batched puts issued before this message go out before it
  uint64_t total = 0;
  for (size_t i = 0; i < chunkCount; ++i) total += chunks[i].iov_len;
  if (total > kMaxP2PPayloadBytes) throw std::runtime_error("p2p message of " + std::to_string(total) + " bytes exceeds the 1 GiB limit");
  FrameHeader h = makeHeader(FrameType::P2P, 0, total);
  thread_local std::vector<iovec> iov;
  iov.clear();
  iov.push_back({&h, sizeof h});
  for (size_t i = 0; i < chunkCount; ++i)
    if (chunks[i].iov_len) iov.push_back(chunks[i]);
  static const std::shared_ptr<void> none;
  // sendmsg takes at most IOV_MAX pieces; longer chunk lists go in slices, all under one hold of
  // the send lock so no other frame (an ack, an RDMC block) can land between them.
  std::lock_guard<std::mutex> lk(c->sendMu);
  for (size_t at = 0; at < iov.size(); at += 1024) {
    size_t n = std::min<size_t>(1024, iov.size() - at);
    if (!sendvLocked(*c, iov.data() + at, int(n), none)) return false;
  }
  return true;
}

void TcpProvider::failPeer(uint32_t nodeId, const std::string& reason, LogLevel level) {
  command([this, nodeId, reason, level] {
    std::shared_ptr<Conn> c = peerConn(nodeId);
    if (c) closeConn(c.get(), reason, level, true);
  });
}

void TcpProvider::close() {
  if (closed_) return;
  closed_ = true;
  flush();
  corked_.clear();
  if (started_) {
    stop_.store(true);
    uint64_t one = 1;
    ssize_t r = write(evfd_, &one, sizeof one);
    (void)r;
    if (thread_.joinable()) thread_.join();
  }
  for (auto& [c, sp] : conns_) {
    if (c->fd >= 0) ::close(c->fd);
    c->fd = -1;
  }
  conns_.clear();
  graveyard_.clear();
  parked_.clear();
  dialing_.clear();
  accepting_.clear();
  {
    std::lock_guard<std::mutex> lk(peersMu_);
    peers_.clear();
  }
  rdmc_.clear();
  pending_.clear();
  {
    std::lock_guard<std::mutex> lk(inboxMu_);
    inbox_.clear();
  }
  if (listenFd_ >= 0) ::close(listenFd_);
  if (jsEpfd_ >= 0) ::close(jsEpfd_);
  jsEpfd_ = -1;
  if (epfd_ >= 0) ::close(epfd_);
  if (evfd_ >= 0) ::close(evfd_);
  listenFd_ = epfd_ = evfd_ = -1;
}

}  // namespace dts
