// TLS on the TCP provider (security.tls). The TLS handshake comes first on every connection; the
// derecho handshake (Hello / HelloAck / Proof, tcp_handshake.cc) then runs inside it, and the
// node id each side claims there must be the one its certificate carries. Everything after goes
// through the session too: the send queue holds plaintext and is encrypted as the socket drains
// (flushOutTls), so a large RDMC block is never encrypted far ahead of the wire.
//
// Threads: the JS thread encrypts (puts, P2P) and the I/O thread decrypts and encrypts (RDMC,
// acks), so every call on a connection's session is made under its sendMu. Reading on the JS
// thread (receiveOnJsThread, inline polls) peeks at plaintext frames in the socket and is off
// with TLS; the I/O thread reads everything.
#include "tcp_provider.h"

namespace dts {

namespace {
constexpr size_t kTlsEncryptChunkBytes = 64 * 1024;  // plaintext encrypted per step of a flush
constexpr size_t kTlsDirectBytes = 256 * 1024;       // sends up to this size skip the plaintext queue
constexpr size_t kTlsReadChunkBytes = 64 * 1024;     // ciphertext read from the socket at once
constexpr uint8_t kTlsHandshakeRecord = 0x16;        // the first byte of any TLS ClientHello
}  // namespace

void TcpProvider::startTls(Conn& c) {
  std::lock_guard<std::mutex> lk(c.sendMu);
  std::string why;
  // A client's first step only produces its ClientHello; errors surface on the next read.
  c.tls->handshake(why);
  c.tls->takeOutput(c.tlsOut);
  if (!flushOutTls(c)) c.sendClosed = true;
  else if (hasUnsentLocked(c) && !c.wantOut) {
    c.wantOut = true;
    armLocked(c);
  }
}

bool TcpProvider::flushOutTls(Conn& c) {
  for (;;) {
    while (c.tlsOutHead < c.tlsOut.size()) {
      ssize_t w = send(c.fd, c.tlsOut.data() + c.tlsOutHead, c.tlsOut.size() - c.tlsOutHead, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        if (errno == EINTR) continue;
        return false;
      }
      c.tlsOutHead += size_t(w);
    }
    c.tlsOut.clear();
    c.tlsOutHead = 0;
    if (c.q.empty() || !c.tlsReady) break;
    // Encrypt the next piece of the queue only once the previous ciphertext is on its way.
    size_t budget = kTlsEncryptChunkBytes;
    while (!c.q.empty() && budget > 0) {
      OutSeg& f = c.q.front();
      const uint8_t* base = f.ext ? f.ext : c.owned.data() + f.off;
      size_t take = std::min(budget, f.len - c.frontDone);
      std::string why;
      if (!c.tls->write(base + c.frontDone, take, why)) {
        c.sendFailure = "TLS encryption failed: " + why;
        return false;
      }
      c.frontDone += take;
      budget -= take;
      if (c.frontDone == f.len) {
        if (!f.ext) c.ownedHead = f.off + f.len;
        c.q.pop_front();
        c.frontDone = 0;
      }
    }
    c.tls->takeOutput(c.tlsOut);
  }
  if (c.q.empty()) {
    c.owned.clear();
    c.ownedHead = 0;
  }
  return true;
}

bool TcpProvider::tlsSendvLocked(Conn& c, const struct iovec* iov, int n, const std::shared_ptr<void>& keep) {
  size_t total = 0;
  for (int i = 0; i < n; ++i) total += iov[i].iov_len;
  if (c.tlsReady && !hasUnsentLocked(c) && total <= kTlsDirectBytes) {
    // The common case (a put, an ack, a small message): gathered into one buffer and encrypted
    // at once, so it becomes as few records as its size allows.
    thread_local std::vector<uint8_t> plain;
    plain.clear();
    for (int i = 0; i < n; ++i) {
      const uint8_t* p = static_cast<const uint8_t*>(iov[i].iov_base);
      plain.insert(plain.end(), p, p + iov[i].iov_len);
    }
    std::string why;
    if (!c.tls->write(plain.data(), plain.size(), why)) {
      c.sendClosed = true;
      c.sendFailure = "TLS encryption failed: " + why;
      shutdown(c.fd, SHUT_RDWR);
      return false;
    }
    c.tls->takeOutput(c.tlsOut);
  } else if (!queueLocked(c, iov, n, 0, keep)) {
    return false;
  }
  if (!flushOutTls(c)) return false;  // the I/O thread sees the socket's error and reports it
  if (hasUnsentLocked(c) && !c.wantOut) {
    c.wantOut = true;
    armLocked(c);
  }
  return true;
}

ssize_t TcpProvider::tlsRecv(Conn& c, uint8_t* p, size_t len) {
  thread_local std::vector<uint8_t> cipher(kTlsReadChunkBytes);
  std::unique_lock<std::mutex> lk(c.sendMu);
  for (;;) {
    std::string why;
    TlsSession::Result r;
    size_t got = 0;
    if (!c.tlsReady) r = c.tls->handshake(why);
    else r = c.tls->read(p, len, got, why);
    c.tls->takeOutput(c.tlsOut);
    bool sent = flushOutTls(c);
    if (sent && hasUnsentLocked(c) && !c.wantOut) {
      c.wantOut = true;
      armLocked(c);
    }
    if (r == TlsSession::Result::Error) {
      lk.unlock();
      std::string who = c.peer != UINT32_MAX && c.state == ConnState::Established ? "node " + std::to_string(c.peer) + " at " + c.addr
                        : c.dialer ? "node " + std::to_string(c.expectedPeer) + " at " + c.addr : "the peer at " + c.addr;
      // In TLS 1.3 the client's side of the handshake is done before the server has checked the
      // client's certificate: a refusal of it arrives as an alert on the first read after. Until
      // our own handshake is through, it is a failed handshake (and a final one: the same
      // certificate will be refused again).
      bool during = c.state != ConnState::Established;
      c.refused = c.dialer && during;
      closeConn(&c, std::string(during ? "TLS handshake with " : "TLS failure with ") + who + (during ? " failed: " : ": ") + why,
                LogLevel::Error, true);
      return -2;
    }
    if (!c.tlsReady && r == TlsSession::Result::Ok) {
      c.tlsReady = true;
      lk.unlock();
      if (!onTlsEstablished(c)) return -2;
      lk.lock();
      continue;
    }
    if (r == TlsSession::Result::Ok) return ssize_t(got);
    if (r == TlsSession::Result::Closed) return 0;
    // More ciphertext is needed.
    ssize_t n = recv(c.fd, cipher.data(), cipher.size(), MSG_DONTWAIT);
    if (n <= 0) {
      if (n == 0 && !c.tlsReady) {
        // For a dialer, most likely a peer without TLS (named), or its pending-handshake limit.
        // An accepted connection closed this early is the peer's dial that lost the race to
        // ours (both sides dial; the TLS handshake makes the window wide) or a stranger: debug.
        lk.unlock();
        if (c.dialer)
          closeConn(&c, "connection to " + c.addr + " closed during the TLS handshake (is the peer configured without TLS? "
                        "security.tls must be set on every member or on none)", LogLevel::Warn, true);
        else
          closeConn(&c, "connection closed during the TLS handshake", LogLevel::Debug, true);
        return -2;
      }
      return n;
    }
    if (!c.dialer && !c.sawFirstByte) {
      c.sawFirstByte = true;
      if (cipher[0] != kTlsHandshakeRecord) {
        lk.unlock();
        refusePlaintextPeer(c, cipher[0]);
        return -2;
      }
    }
    c.tls->feed(cipher.data(), size_t(n));
  }
}

bool TcpProvider::refusePlaintextPeer(Conn& c, uint8_t firstByte) {
  if (c.tls) {
    // A member without TLS sent its plaintext Hello: answer in its own language, so it logs why.
    static const char code[] = "TLS required";
    FrameHeader h = makeHeader(FrameType::Reject, 0, sizeof code - 1);
    iovec iov[2] = {{&h, sizeof h}, {const_cast<char*>(code), sizeof code - 1}};
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    ssize_t w = sendmsg(c.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    static const char* digits = "0123456789abcdef";
    std::string byte = {digits[firstByte >> 4], digits[firstByte & 15]};
    closeConn(&c, "the peer at " + c.addr + " speaks plaintext (first byte 0x" + byte + "), but this node requires TLS (security.tls): refused",
              LogLevel::Error, false);
  } else {
    closeConn(&c, "the peer at " + c.addr + " speaks TLS, but this node is configured without TLS (security.tls): refused",
              LogLevel::Error, false);
  }
  return false;
}

bool TcpProvider::onTlsEstablished(Conn& c) {
  std::string why;
  uint32_t id;
  {
    std::lock_guard<std::mutex> lk(c.sendMu);
    if (!c.tls->peerNodeId(id, why)) id = UINT32_MAX;
  }
  if (id == UINT32_MAX) return refuseHandshake(c, "TLS peer at " + c.addr + ": " + why, "certificate carries no node id");
  c.certNodeId = id;
  if (c.dialer && c.expectedPeer != kAnyNode && id != c.expectedPeer) {
    c.refused = true;
    closeConn(&c, "dialed node " + std::to_string(c.expectedPeer) + " at " + c.addr + " but its certificate is for node " +
                      std::to_string(id) + ": refused", LogLevel::Error, true);
    return false;
  }
  if (c.dialer) sendHello(c);
  return true;
}

bool TcpProvider::checkCertificateClaim(Conn& c, uint32_t claimedId) {
  if (!c.tls || claimedId == c.certNodeId) return true;
  std::string who = c.dialer ? "the node at " + c.addr : "the peer at " + c.addr;
  refuseHandshake(c, who + " claims node id " + std::to_string(claimedId) + " but its certificate is for node " +
                         std::to_string(c.certNodeId), "certificate does not match the claimed node id");
  return false;
}

}  // namespace dts
