// Incremental, validating frame decoder. It never trusts a length before checking it against the
// per-type limits, so random bytes, truncated frames and absurd lengths end in an error string,
// never in a crash or a huge allocation. The same class runs on sockets and under the fuzz hook.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wire.h"

namespace dts {

class FrameDecoder {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    /** Where the payload of a validated frame goes: a buffer of payloadLen bytes the caller owns,
     *  or nullptr to have the decoder collect it. Called once per frame before any payload byte. */
    virtual uint8_t* payloadTarget(const FrameHeader& h, const uint8_t* sub) { return nullptr; }
    /** A whole, validated frame. Return false to stop decoding (set the reason with fail()). */
    virtual bool onFrame(const FrameHeader& h, const uint8_t* sub, const uint8_t* payload) = 0;
  };

  /** Consumes bytes; false on a malformed frame or when the sink stopped (see error()). */
  bool feed(const uint8_t* data, size_t len, Sink& sink);
  /** When the next bytes belong to a caller-owned payload target, the span to receive them into
   *  directly (zero-copy receive); false otherwise. */
  bool directSpan(uint8_t** p, size_t* len) const;
  /** Reports that `n` bytes were written into the directSpan. */
  bool directFilled(size_t n, Sink& sink);

  void fail(const std::string& why) { error_ = why; failed_ = true; }
  /** Until the peer is authenticated only handshake frames of at most kMaxHandshakeFrameBytes are
   *  accepted (the default); the connection lifts this once the proof checked out. */
  void setAuthenticated(bool yes) { authenticated_ = yes; }
  bool authenticated() const { return authenticated_; }
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  uint64_t framesDecoded() const { return frames_; }
  /** True between frames (no partial frame buffered). */
  bool atBoundary() const { return state_ == State::Header && hdrFill_ == 0; }

  /** Checks a header in isolation (magic, type, sub-header size, payload bound) and, for a peer not
   *  authenticated yet, that it is a small handshake frame. */
  static bool validateHeader(const FrameHeader& h, std::string& why, bool authenticated = true);
  /** Checks the sub-header against the header (ranges, block numbers). */
  static bool validateSub(const FrameHeader& h, const uint8_t* sub, std::string& why);
  /** Checks a whole Put payload (range table against the bytes that follow). */
  static bool validatePutPayload(const FrameHeader& h, const uint8_t* sub, const uint8_t* payload, std::string& why);

 private:
  enum class State { Header, Sub, Payload };
  bool headerDone(Sink& sink);
  bool subDone(Sink& sink);
  bool payloadDone(Sink& sink);

  State state_ = State::Header;
  uint8_t hdrBuf_[sizeof(FrameHeader)];
  size_t hdrFill_ = 0;
  FrameHeader hdr_{};
  uint8_t subBuf_[kMaxSubLen];
  size_t subFill_ = 0;
  uint8_t* direct_ = nullptr;
  std::vector<uint8_t> payload_;
  uint64_t payloadFill_ = 0;
  uint64_t frames_ = 0;
  bool failed_ = false;
  bool authenticated_ = false;
  std::string error_;
};

}  // namespace dts
