// The transport interface the addon binding talks to. The TCP provider is the only implementation
// today; a libfabric provider (binding.gyp's with_libfabric) implements the same class, so the
// binding and the TS facade do not change when it lands.
//
// Threading contract: every method is called on the JS thread. A provider runs its own I/O
// thread(s), collects what arrived into an EventBatch, and calls `wake` (from any thread) when the
// batch goes from empty to non-empty; the JS thread then takes the whole batch with drain().
#pragma once
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "wire.h"

#include "frame_fuzzer.h"

namespace dts {

/** Dial target meaning "whichever node answers at that address" (joining through a contact). */
constexpr uint32_t kAnyNode = 0xffffffffu;

enum class LogLevel : uint8_t { Debug = 0, Info = 1, Warn = 2, Error = 3 };

struct ProviderConfig {
  uint32_t nodeId = 0;
  std::string host = "127.0.0.1";
  uint16_t port = 0;                 // 0: an ephemeral port
  std::string buildHash;             // must match the peer's exactly
  // The cluster secrets: any of them is accepted from a peer; this node proves the first one the
  // peer also holds (the first of its own when none is shared). Two during a rotation: [new, old].
  std::vector<std::string> secrets;
  // TLS 1.3 with mutual authentication against the cluster CA (PEM texts; all empty: no TLS).
  // The peer's certificate must carry the node id it claims (tls_session.h).
  std::string tlsCaPem, tlsCertPem, tlsKeyPem;
  uint32_t heartbeatTimeoutMs = 1000;  // a put-with-completion not acked by then fails the peer
  uint32_t handshakeTimeoutMs = 5000;  // a connection that has not finished its handshake is dropped
  uint32_t lingerMs = 2000;            // close() keeps writing already-sent data this long at most
  bool batchPuts = false;              // puts wait in a per-connection buffer until flush()
  uint32_t busyPollWindowMs = 2;       // after an inline poll, JS counts as busy-polling this long
  // SST writes are read by the JS thread itself when it is woken by the sockets (jsReadyFd), not
  // handed over by the I/O thread: one thread wake-up per arrival instead of two. The I/O thread
  // keeps every other frame type, handshakes, timers and frames too large for the inline reader.
  bool receiveOnJsThread = false;
  // A blocked JS event loop (a long synchronous handler, GC) does not make this node look dead: the
  // I/O thread reads and acknowledges puts for it. After the JS thread has left a wake-up untaken
  // this long, puts are no longer acknowledged, so peers suspect a node that is stuck for good.
  // 0: acknowledge for as long as the process runs (what an RDMA NIC does).
  uint32_t blockedLoopLimitMs = 0;
  // Connections that have not proved the secret yet: at most this many at once (more are closed
  // as soon as they are accepted), a quarter of them from one address, and at most
  // handshakesPerSecondPerAddress new ones per second from one address (a burst of as many).
  uint32_t maxPendingHandshakes = 64;
  uint32_t handshakesPerSecondPerAddress = 64;
};

/** Memory an RDMC message lives in; freed when the last holder (I/O queue, JS buffer) lets go. */
struct RdmcBuffer {
  uint8_t* data = nullptr;
  uint64_t size = 0;
  bool owned = false;     // from the buffer pool (receiver) vs. the sender's JS memory
  uint64_t capacity = 0;  // pool bookkeeping for owned buffers
  /** An owned buffer of `bytes` from the pool; nullptr data when out of memory. */
  static std::shared_ptr<RdmcBuffer> allocate(uint64_t bytes);
  ~RdmcBuffer();
};

struct P2PMessage {
  uint32_t from;
  uint8_t* data;  // malloc'd, ownership passes to the consumer (nullptr when len == 0)
  uint64_t len;
};

struct RdmcDelivery {
  uint32_t groupId;
  uint32_t sender;  // node id
  uint64_t index;   // per-group message counter, from 0
  std::shared_ptr<RdmcBuffer> buffer;
  bool ownMessage;  // this process sent it (completion: every receiver has it)
};

struct PeerFailure {
  uint32_t nodeId;
  std::string reason;
  // The handshake refused the connection (wrong secret, build or protocol version, an id already
  // in use): dialing again will not help, unlike a peer that is down or not listening yet.
  bool refused = false;
};

struct LogLine {
  LogLevel level;
  std::string message;
};

/** Put records are packed back to back in `puts`: PutRecordHeader, ranges, then the bytes. */
struct PutRecordHeader {
  uint32_t from;
  uint32_t regionId;
  uint32_t rangeCount;
  uint32_t dataBytes;
};

struct EventBatch {
  std::vector<uint8_t> puts;
  uint64_t putCount = 0;
  std::vector<P2PMessage> p2p;
  std::vector<RdmcDelivery> rdmc;
  std::vector<PeerFailure> failures;
  std::vector<LogLine> logs;
  std::vector<uint32_t> connected;
  bool empty() const {
    return putCount == 0 && p2p.empty() && rdmc.empty() && failures.empty() && logs.empty() && connected.empty();
  }
  void clear();   // frees undelivered P2P payloads
  void appendFrom(EventBatch& other);  // moves other's events after ours, leaves other empty
  ~EventBatch();
};

struct FuzzStats {
  uint64_t frames = 0;       // frames fed
  uint64_t connections = 0;  // connections they were fed on (a new one after each drop)
  uint64_t dropped = 0;      // connections the endpoint dropped (or that ended mid-frame)
};

struct ProviderStats {
  uint64_t putsReceivedByIoThread = 0;
  uint64_t putsReceivedInline = 0;  // taken by drain(receiveInline) on the JS thread
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const char* name() const = 0;
  /** Binds, starts the I/O thread; returns the bound port. Throws std::runtime_error on failure. */
  virtual uint16_t start(const ProviderConfig& config, std::function<void()> wake) = 0;
  /** Dials a peer (idempotent; simultaneous dials resolve to one connection). */
  virtual void connect(uint32_t nodeId, const std::string& host, uint16_t port) = 0;
  /** Node ids the application deals with (region members): their failures are reported. A peer
   *  that is neither expected, dialed, in an RDMC group nor has sent a message is only logged. */
  virtual void expectPeers(const std::vector<uint32_t>& nodeIds) {}
  /** Writes ranges of my row (`row` points at its first byte) into the targets' copies. The bytes
   *  are taken at call time. Returns true when the write was batched (batchPuts) and waits for
   *  flush(), which drain() and close() also do. */
  virtual bool put(uint32_t regionId, const uint8_t* row, const PutRange* ranges, uint32_t rangeCount,
                   const uint32_t* targets, size_t targetCount, bool completion) = 0;
  /** Writes every batched put. */
  virtual void flush() = 0;
  /** Reliable FIFO message; the chunks are gathered on the wire, never concatenated first. */
  virtual bool sendP2P(uint32_t nodeId, const struct iovec* chunks, size_t chunkCount) = 0;
  virtual void rdmcCreateGroup(uint32_t groupId, const std::vector<uint32_t>& members, uint32_t blockBytes) = 0;
  virtual void rdmcDestroyGroup(uint32_t groupId) = 0;
  /** Queues a message on a group this node sends in; `data` must stay valid until its delivery. */
  virtual void rdmcSend(uint32_t groupId, std::shared_ptr<RdmcBuffer> data) = 0;
  /** Drops the connection to a peer and reports it failed (e.g. it wrote outside its row). */
  // `level`: the log line of the drop (a peer removed by the membership protocol is routine).
  virtual void failPeer(uint32_t nodeId, const std::string& reason, LogLevel level = LogLevel::Error) = 0;
  /** Moves everything that arrived since the last drain into `out` (which should be empty).
   *  With `receiveInline`, also reads SST writes that are waiting in the sockets right here on the
   *  calling thread (no I/O-thread hand-off: the busy-polling path), keeping per-writer order. */
  virtual void drain(EventBatch& out, bool receiveInline) = 0;
  /** With receiveOnJsThread: an fd that turns readable when SST writes may be waiting (watch it
   *  from the JS event loop, then call clearJsReady() and drain()); −1 otherwise. */
  virtual int jsReadyFd() const { return -1; }
  virtual void clearJsReady() {}
  /** Stops the I/O thread and releases every socket and buffer. Idempotent. */
  virtual void close() = 0;
  virtual std::vector<uint32_t> connectedPeers() = 0;
  virtual ProviderStats stats() = 0;
  /** Test hook: feeds `count` generated frames of `type` (see FrameFuzzer) through the real frame
   *  handlers on the I/O thread, on connections that are `authenticated` or still in the
   *  handshake; blocks the caller until done. */
  virtual FuzzStats fuzzForTest(FrameType type, uint64_t count, uint64_t seed, bool authenticated, const FuzzTargets& targets) {
    throw std::runtime_error(std::string("the ") + name() + " provider has no fuzzing hook");
  }
};

std::unique_ptr<Provider> makeTcpProvider();

/** The providers compiled into this build, in order of preference. */
std::vector<std::string> compiledProviders();
/** A provider by name ("tcp"; later "libfabric"); nullptr when it is not compiled in. */
std::unique_ptr<Provider> makeProvider(const std::string& name);

}  // namespace dts
