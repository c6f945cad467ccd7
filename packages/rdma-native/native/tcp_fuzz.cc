// The fuzzing hook: generated frames go through the same decoder and frame handlers as bytes from
// a socket, on the I/O thread (which owns that state), on connections without a socket (fd −1:
// what the handlers send is dropped). A connection the endpoint drops is replaced by a new one,
// so one run covers both a long-lived connection and many fresh ones.
#include <future>

#include "tcp_provider.h"

namespace dts {

FuzzStats TcpProvider::fuzzForTest(FrameType type, uint64_t count, uint64_t seed, bool authenticated, const FuzzTargets& targets) {
  auto done = std::make_shared<std::promise<FuzzStats>>();
  std::future<FuzzStats> result = done->get_future();
  command([this, done, type, count, seed, authenticated, targets] {
    try {
      done->set_value(fuzzOnIoThread(type, count, seed, authenticated, targets));
    } catch (...) {
      done->set_exception(std::current_exception());
    }
  });
  return result.get();
}

std::shared_ptr<Conn> TcpProvider::fuzzConn(FrameFuzzer& fz, bool authenticated) {
  auto c = std::make_shared<Conn>();
  c->owner = this;
  c->fd = -1;
  c->addr = "fuzz";
  c->rx.resize(kHandshakeRxBytes);
  for (size_t i = 0; i < kNonceBytes; ++i) c->myNonce[i] = uint8_t(fz.random());
  conns_[c.get()] = c;
  uint32_t peer = fz.pickNode();
  if (peer == cfg_.nodeId || peer == kAnyNode) peer = cfg_.nodeId + 1;
  bool dialer = fz.below(2) == 0;
  if (authenticated) {
    c->peer = c->expectedPeer = peer;
    c->dialer = dialer;
    if (dialer) dialing_[peer] = c.get();
    else accepting_.emplace(peer, c.get());
    establish(*c);
  } else if (dialer) {
    c->dialer = true;
    c->peer = c->expectedPeer = peer;
    dialing_[peer] = c.get();
    c->state = ConnState::WaitHelloAck;
  } else {
    c->state = ConnState::WaitHello;
  }
  return c;
}

FuzzStats TcpProvider::fuzzOnIoThread(FrameType type, uint64_t count, uint64_t seed, bool authenticated, const FuzzTargets& targets) {
  FrameFuzzer fz(seed, targets);
  FuzzStats st;
  std::shared_ptr<Conn> c;
  for (uint64_t i = 0; i < count; ++i) {
    if (!c || !conns_.count(c.get())) {
      c = fuzzConn(fz, authenticated);
      ++st.connections;
    }
    std::vector<uint8_t> f = fz.next(type);
    Conn* cp = c.get();
    bool ok = cp->dec.feed(f.data(), f.size(), *cp);
    ++st.frames;
    if (!conns_.count(cp)) {
      ++st.dropped;  // a handler closed it
    } else if (!ok) {
      closeConn(cp, "malformed frame from the fuzzer: " + cp->dec.error(), LogLevel::Debug, true);
      ++st.dropped;
    } else if (!cp->dec.atBoundary()) {
      closeConn(cp, "the fuzzer went away in the middle of a frame", LogLevel::Debug, true);
      ++st.dropped;
    }
    if ((i & 255) == 255) {
      // No frame handler is running between frames: closed connections can go now.
      flushPending();
      graveyard_.clear();
    }
  }
  if (c && conns_.count(c.get())) closeConn(c.get(), "fuzz run over", LogLevel::Debug, false);
  flushPending();
  graveyard_.clear();
  return st;
}

}  // namespace dts
