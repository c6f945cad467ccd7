// The TCP provider's shared declarations: connection state, RDMC state and the TcpProvider class.
// Its member functions live in tcp_provider.cc (connections, handshake, puts, P2P) and
// tcp_rdmc.cc (RDMC). See tcp_provider.cc for the threading design.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <sys/ioctl.h>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "buffer_pool.h"
#include "debug_assert.h"
#include "frame_decoder.h"
#include "provider.h"
#include "rdmc_schedule.h"
#include "sha256.h"
#include "tls_session.h"

namespace dts {
namespace tcp_detail {

inline uint64_t nowMs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

inline std::string errnoText(int e) { return std::string(strerror(e)); }

inline std::string hex(const std::string& s, size_t max = 16) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 32 && c < 127) out += char(c);
    else { out += "\\x"; out += d[c >> 4]; out += d[c & 15]; }
  }
  if (s.size() > max) out += "...";
  return out;
}

inline void setNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

constexpr size_t kRxBytes = 256 * 1024;
constexpr size_t kHandshakeRxBytes = 4096;  // receive buffer until the peer is authenticated
constexpr size_t kMaxReadPerEvent = 4 << 20;     // fairness between connections
constexpr size_t kMaxOwnedQueueBytes = 256 << 20; // a peer this far behind is failed
constexpr int kMaxIov = 64;
constexpr size_t kCorkFlushBytes = 64 * 1024;
constexpr size_t kDirectPutBytes = 8 * 1024;  // batched puts this large skip the cork

enum class ConnState { Connecting, WaitHello, WaitHelloAck, WaitProof, Established, Closed };

struct OutSeg {
  const uint8_t* ext;  // external bytes (nullptr: bytes live in the owned buffer at `off`)
  size_t off;
  size_t len;
  std::shared_ptr<void> keep;
};

}  // namespace tcp_detail
using namespace tcp_detail;

class TcpProvider;

struct Conn : FrameDecoder::Sink {
  TcpProvider* owner = nullptr;
  int fd = -1;
  bool dialer = false;
  uint32_t peer = UINT32_MAX;   // node id once known
  uint32_t expectedPeer = UINT32_MAX;  // for dials
  std::string addr;
  uint32_t ip = 0;               // accepted connections: the remote IPv4 address (network order)
  bool countedPending = false;   // counted in the unauthenticated-connection limits
  ConnState state = ConnState::Connecting;
  uint64_t handshakeDeadlineMs = 0;
  uint8_t myNonce[kNonceBytes];
  uint8_t peerNonce[kNonceBytes];
  size_t secretIndex = 0;  // which of cfg_.secrets both sides prove on this connection
  FrameDecoder dec;
  std::vector<uint8_t> rx;
  // TLS (security.tls): the cipher state, and the node id the peer's certificate carries once the
  // TLS handshake is done (the Hello / HelloAck must claim that id). Every SSL call happens under
  // sendMu: the JS thread encrypts while the I/O thread decrypts.
  std::unique_ptr<TlsSession> tls;
  bool tlsReady = false;
  uint32_t certNodeId = UINT32_MAX;
  std::vector<uint8_t> tlsOut;  // ciphertext not yet taken by the socket (under sendMu)
  size_t tlsOutHead = 0;
  bool sawFirstByte = false;    // accepted connections: the first byte tells TLS from plaintext
  bool superseded = false;  // closed because the other connection of the pair won
  bool refused = false;     // ended by a handshake refusal (see PeerFailure::refused)

  // Send side, shared by the JS thread and the I/O thread.
  std::mutex sendMu;
  std::deque<OutSeg> q;
  std::vector<uint8_t> owned;
  size_t ownedHead = 0;  // bytes at the front of `owned` no segment refers to any more
  size_t frontDone = 0;  // bytes of q.front() already written
  bool wantOut = false;
  // While the JS thread busy-polls inline, EPOLLIN is switched off for this connection so the I/O
  // thread is not woken for writes JS will read itself (under sendMu, like every epoll_ctl here).
  bool parked = false;
  std::atomic<bool> unparkRequested{false};
  // Written under sendMu; atomic so the I/O thread can check it after every read without taking
  // the lock the JS thread holds across its sendmsg (that contention cost a futex pair per read).
  std::atomic<bool> sendClosed{false};
  std::string sendFailure;  // why sendClosed was set by a sender (under sendMu)
  std::deque<std::pair<uint64_t, uint64_t>> pendingAcks;  // (ackSeq, deadlineMs), under sendMu
  uint64_t nextAckSeq = 1;

  // Receive-side scratch for a direct payload.
  uint8_t* p2pBuf = nullptr;
  // After a large direct payload the next frame is most likely another block: read only its
  // header and sub-header, so its payload goes straight to its buffer instead of via `rx`.
  bool headerOnlyRead = false;
  // Held by whichever thread reads the socket: the I/O thread, or the JS thread in an inline drain.
  std::recursive_mutex rxMu;
  // Where blocks of destroyed RDMC groups are received to be dropped (reused).
  std::vector<uint8_t> discard;
  // Batched puts not yet written (batchPuts mode; touched only by the JS thread).
  std::vector<uint8_t> cork;

  uint8_t* payloadTarget(const FrameHeader& h, const uint8_t* sub) override;
  bool onFrame(const FrameHeader& h, const uint8_t* sub, const uint8_t* payload) override;
  ~Conn() override { std::free(p2pBuf); }
};

struct RdmcMsg {
  uint64_t index = 0;
  uint64_t size = 0;
  uint32_t blockBytes = 0;
  uint32_t blocks = 0;
  std::shared_ptr<RdmcBuffer> buf;
  std::vector<uint8_t> have;
  uint32_t received = 0;
  std::vector<uint32_t> senders;  // receiver: who sent its blocks (checked against the group on create)
  std::vector<uint8_t> acked;  // sender: which members confirmed it
  bool planned = false;
  RdmcPlan plan;
  size_t nextSend = 0;
  uint32_t acks = 0;
  bool delivered = false;
};

struct RdmcGroup {
  uint32_t id = 0;
  bool created = false;  // blocks may arrive before the local create
  std::vector<uint32_t> members;
  uint32_t myIndex = 0;
  uint32_t blockBytes = 0;
  std::deque<std::shared_ptr<RdmcBuffer>> queue;  // sender: messages waiting their turn
  std::unique_ptr<RdmcMsg> cur;
  uint64_t nextIndex = 0;  // receiver: the index the next message must carry
  uint64_t sentIndex = 0;  // sender: index of the next message to start
};

class TcpProvider : public Provider {
 public:
  ~TcpProvider() override { close(); }
  const char* name() const override { return "tcp"; }
  uint16_t start(const ProviderConfig& config, std::function<void()> wake) override;
  void connect(uint32_t nodeId, const std::string& host, uint16_t port) override;
  void expectPeers(const std::vector<uint32_t>& nodeIds) override;
  bool put(uint32_t regionId, const uint8_t* row, const PutRange* ranges, uint32_t rangeCount,
           const uint32_t* targets, size_t targetCount, bool completion) override;
  void flush() override;
  bool sendP2P(uint32_t nodeId, const struct iovec* chunks, size_t chunkCount) override;
  void rdmcCreateGroup(uint32_t groupId, const std::vector<uint32_t>& members, uint32_t blockBytes) override;
  void rdmcDestroyGroup(uint32_t groupId) override;
  void rdmcSend(uint32_t groupId, std::shared_ptr<RdmcBuffer> data) override;
  void failPeer(uint32_t nodeId, const std::string& reason, LogLevel level = LogLevel::Error) override;
  void drain(EventBatch& out, bool receiveInline) override;
  int jsReadyFd() const override { return jsEpfd_; }
  void clearJsReady() override;
  void close() override;
  std::vector<uint32_t> connectedPeers() override;
  FuzzStats fuzzForTest(FrameType type, uint64_t count, uint64_t seed, bool authenticated, const FuzzTargets& targets) override;
  ProviderStats stats() override {
    return {putsIo_.load(std::memory_order_relaxed), putsInline_.load(std::memory_order_relaxed)};
  }

  // Called from Conn (I/O thread).
  uint8_t* rdmcTarget(Conn& c, const FrameHeader& h, const RdmcBlockSub& s);
  bool onConnFrame(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload);

 private:
  void run();
  void command(std::function<void()> fn);
  void log(LogLevel level, std::string msg);
  void flushPending();
  void handleAccept();
  /** Whether a just-accepted connection from `ip` fits the unauthenticated-connection limits;
   *  counts it if so. */
  bool admitPending(uint32_t ip, uint64_t now, std::string& why);
  void releasePending(Conn& c);
  bool isKnown(uint32_t nodeId);
  void markKnown(uint32_t nodeId);
  void rdmcDropEarly(RdmcGroup& g, const std::string& why);
  // Fuzzing hook (tcp_fuzz.cc), I/O thread.
  FuzzStats fuzzOnIoThread(FrameType type, uint64_t count, uint64_t seed, bool authenticated, const FuzzTargets& targets);
  std::shared_ptr<Conn> fuzzConn(FrameFuzzer& fz, bool authenticated);
  void handleConn(Conn* c, uint32_t events);
  void readConn(Conn* c);
  bool flushOut(Conn& c);  // under sendMu
  bool hasUnsentLocked(const Conn& c) const { return !c.q.empty() || c.tlsOutHead < c.tlsOut.size(); }
  // TLS (tcp_tls.cc).
  bool flushOutTls(Conn& c);  // under sendMu
  bool queueLocked(Conn& c, const struct iovec* iov, int n, size_t skip, const std::shared_ptr<void>& keep);
  bool tlsSendvLocked(Conn& c, const struct iovec* iov, int n, const std::shared_ptr<void>& keep);
  void startTls(Conn& c);
  /** recv() through TLS: plaintext bytes, 0 at the end, -1 with errno, or -2 when it closed `c`. */
  ssize_t tlsRecv(Conn& c, uint8_t* p, size_t len);
  bool onTlsEstablished(Conn& c);
  bool refusePlaintextPeer(Conn& c, uint8_t firstByte);
  bool checkCertificateClaim(Conn& c, uint32_t claimedId);
  bool sendv(Conn& c, const struct iovec* iov, int n, const std::shared_ptr<void>& keep);
  bool sendvLocked(Conn& c, const struct iovec* iov, int n, const std::shared_ptr<void>& keep);
  void closeConn(Conn* c, const std::string& reason, LogLevel level, bool failure);
  void dialNow(uint32_t nodeId, const std::string& host, uint16_t port);
  void sendHello(Conn& c);
  // The handshake (tcp_handshake.cc), one function per frame kind.
  bool onHandshakeFrame(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload);
  bool onHello(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload);
  bool onHelloAck(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload);
  bool onProof(Conn& c, const uint8_t* sub);
  bool onRejectAsDialer(Conn& c, const FrameHeader& h, const uint8_t* payload);
  bool onRejectAsAcceptor(Conn& c, const FrameHeader& h, const uint8_t* payload);
  bool refuseHandshake(Conn& c, const std::string& why, const char* code);
  // Established connections (tcp_frames.cc), one function per frame kind.
  bool onPut(Conn& c, const FrameHeader& h, const uint8_t* sub, const uint8_t* payload);
  bool onPutAck(Conn& c, const uint8_t* sub);
  bool onP2P(Conn& c, const FrameHeader& h);
  bool onRdmcBlock(Conn& c, const FrameHeader& h, const uint8_t* sub);
  bool onRdmcDone(Conn& c, const uint8_t* sub);
  bool onRejectEstablished(Conn& c, const FrameHeader& h, const uint8_t* payload);
  void establish(Conn& c);
  void mac(const char* label, const Conn& c, const std::string& secret, uint8_t out[kMacBytes]);
  void secretTag(const std::string& secret, uint8_t out[kSecretTagBytes]);
  bool sendFrame(Conn& c, FrameType type, const void* sub, size_t subLen, const void* payload, size_t payloadLen);
  void reject(Conn& c, const std::string& reason);
  void checkTimers();
  void receiveInlineFrom(Conn& c, EventBatch& out);
  void armLocked(Conn& c);  // sendMu held
  bool inlineActive(uint64_t nowMs) const;
  /** How long JS may go without taking a batch before the I/O thread reads its connections for it. */
  uint64_t jsTakeoverMs() const;
  /** Wakes JS for a new batch (once until it takes it) and notes since when a wake-up is pending. */
  void requestWake();
  /** Whether puts go unacknowledged: JS has left a wake-up untaken past blockedLoopLimitMs. */
  bool withholdAcks(uint64_t nowMs);
  /** Moves the failure deadlines past time this thread could not observe (it was not scheduled). */
  void creditUnobservedTime(uint64_t iterationStartMs, uint64_t nowMs, int waitTimeoutMs);
  bool setParked(Conn& c, bool parked);
  void unparkAll();
  void unpark(Conn* c);
  void flushCork(Conn& c);
  std::shared_ptr<Conn> peerConn(uint32_t nodeId);
  // RDMC, I/O thread.
  void rdmcStartNext(RdmcGroup& g);
  void rdmcAdvance(RdmcGroup& g);
  void rdmcMaybeComplete(RdmcGroup& g);
  bool rdmcSendBlock(RdmcGroup& g, uint32_t targetIndex, uint32_t block);

  ProviderConfig cfg_;
  std::unique_ptr<TlsContext> tlsCtx_;  // security.tls configured
  std::function<void()> wake_;
  int epfd_ = -1, listenFd_ = -1, evfd_ = -1;
  // receiveOnJsThread: established connections, edge-triggered, watched by the JS event loop.
  int jsEpfd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  uint64_t stopDeadlineMs_ = 0;
  bool started_ = false, closed_ = false;

  std::mutex cmdMu_;
  std::vector<std::function<void()>> cmds_;

  std::mutex peersMu_;
  std::unordered_map<uint32_t, std::shared_ptr<Conn>> peers_;  // established

  // I/O thread only.
  std::unordered_map<Conn*, std::shared_ptr<Conn>> conns_;
  std::unordered_map<uint32_t, Conn*> dialing_;    // our dials not yet established
  // Incoming handshakes past Hello. Not a reservation: several unproven connections may claim
  // one id; the first to prove the secret gets it.
  std::unordered_multimap<uint32_t, Conn*> accepting_;
  // Dials asked for while an incoming handshake claiming that id was pending: made if that one
  // closes without proving itself.
  std::unordered_map<uint32_t, std::pair<std::string, uint16_t>> deferredDials_;
  // Unauthenticated-connection limits (see ProviderConfig).
  struct AddressBudget {
    double tokens = 0;
    uint64_t refilledMs = 0;
    uint32_t pending = 0;
  };
  std::unordered_map<uint32_t, AddressBudget> budgets_;
  uint32_t pendingHandshakes_ = 0;
  uint64_t refusedSinceLog_ = 0;
  uint64_t refusalLoggedMs_ = 0;
  std::string lastRefusal_;
  std::mutex knownMu_;
  std::unordered_set<uint32_t> known_;
  std::map<uint32_t, RdmcGroup> rdmc_;
  std::unordered_set<uint32_t> destroyedRdmc_;
  EventBatch pending_;
  std::vector<std::shared_ptr<Conn>> graveyard_;
  std::vector<Conn*> parked_;  // I/O thread: connections with EPOLLIN switched off
  std::atomic<uint64_t> inlineActiveUntilMs_{0};  // closed this iteration; freed once no frame handler runs

  std::mutex inboxMu_;
  EventBatch inbox_;
  std::atomic<bool> wakePending_{false};
  std::atomic<uint64_t> wakeRequestedMs_{0};  // when wakePending_ last went false -> true
  std::atomic<uint64_t> lastDrainMs_{0};      // when JS last took a batch
  bool ackWithholdLogged_ = false;             // I/O thread: the current stall was logged
  std::atomic<uint64_t> putsIo_{0}, putsInline_{0};
  std::vector<std::shared_ptr<Conn>> corked_;  // JS thread: connections with batched puts
};

}  // namespace dts
