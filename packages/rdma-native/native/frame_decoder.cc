#include "frame_decoder.h"

#include <algorithm>

#include "debug_assert.h"

namespace dts {
namespace {
size_t expectedSubLen(FrameType t) {
  switch (t) {
    case FrameType::Hello: return sizeof(HelloSub);
    case FrameType::HelloAck: return sizeof(HelloAckSub);
    case FrameType::Reject: return 0;
    case FrameType::Proof: return sizeof(ProofSub);
    case FrameType::Put: return sizeof(PutSub);
    case FrameType::PutAck: return sizeof(PutAckSub);
    case FrameType::P2P: return 0;
    case FrameType::RdmcBlock: return sizeof(RdmcBlockSub);
    case FrameType::RdmcDone: return sizeof(RdmcDoneSub);
  }
  return SIZE_MAX;
}
uint64_t maxPayload(FrameType t) {
  switch (t) {
    case FrameType::Hello:
    case FrameType::HelloAck: return kMaxBuildHashBytes;
    case FrameType::Reject: return kMaxReasonBytes;
    case FrameType::Put: return kMaxPutPayloadBytes;
    case FrameType::P2P: return kMaxP2PPayloadBytes;
    case FrameType::RdmcBlock: return kMaxBlockBytes;
    default: return 0;
  }
}
}  // namespace

const char* frameTypeName(uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::Hello: return "hello";
    case FrameType::HelloAck: return "hello-ack";
    case FrameType::Reject: return "reject";
    case FrameType::Proof: return "proof";
    case FrameType::Put: return "put";
    case FrameType::PutAck: return "put-ack";
    case FrameType::P2P: return "p2p";
    case FrameType::RdmcBlock: return "rdmc-block";
    case FrameType::RdmcDone: return "rdmc-done";
  }
  return "unknown";
}

bool FrameDecoder::validateHeader(const FrameHeader& h, std::string& why, bool authenticated) {
  if (h.magic != kFrameMagic) {
    why = "field magic: bad frame magic 0x" + [](unsigned v) { char b[8]; snprintf(b, sizeof b, "%04x", v); return std::string(b); }(h.magic);
    return false;
  }
  if (h.type < static_cast<uint8_t>(FrameType::Hello) || h.type > static_cast<uint8_t>(FrameType::RdmcDone)) {
    why = "field type: unknown frame type " + std::to_string(h.type);
    return false;
  }
  if (h.flags != 0) {
    why = "field flags: unknown frame flags " + std::to_string(h.flags);
    return false;
  }
  FrameType t = static_cast<FrameType>(h.type);
  if (h.subLen != expectedSubLen(t)) {
    why = "field subLen: frame type " + std::to_string(h.type) + " with sub-header of " + std::to_string(h.subLen) +
          " bytes (expected " + std::to_string(expectedSubLen(t)) + ")";
    return false;
  }
  if (h.payloadLen > maxPayload(t)) {
    why = "field payloadLen: frame type " + std::to_string(h.type) + " with payload of " + std::to_string(h.payloadLen) +
          " bytes (at most " + std::to_string(maxPayload(t)) + ")";
    return false;
  }
  if (!authenticated && !isHandshakeFrame(h.type)) {
    why = std::string("field type: a ") + frameTypeName(h.type) + " frame before the handshake finished (only handshake frames are read before the peer's proof)";
    return false;
  }
  if (!authenticated && sizeof h + h.subLen + h.payloadLen > kMaxHandshakeFrameBytes) {
    why = "field payloadLen: a handshake frame of " + std::to_string(sizeof h + h.subLen + h.payloadLen) + " bytes before the handshake finished (at most " +
          std::to_string(kMaxHandshakeFrameBytes) + ")";
    return false;
  }
  return true;
}

bool FrameDecoder::validateSub(const FrameHeader& h, const uint8_t* sub, std::string& why) {
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::Put: {
      PutSub s;
      std::memcpy(&s, sub, sizeof s);
      if (s.rangeCount == 0 || s.rangeCount > kMaxPutRanges) {
        why = "field rangeCount: put with " + std::to_string(s.rangeCount) + " ranges (1.." + std::to_string(kMaxPutRanges) + " allowed)";
        return false;
      }
      if (uint64_t(s.rangeCount) * sizeof(PutRange) > h.payloadLen) {
        why = "field rangeCount: put range table longer than its payload";
        return false;
      }
      return true;
    }
    case FrameType::RdmcBlock: {
      RdmcBlockSub s;
      std::memcpy(&s, sub, sizeof s);
      if (s.blockBytes == 0 || s.blockBytes > kMaxBlockBytes) {
        why = "field blockBytes: rdmc block size " + std::to_string(s.blockBytes) + " out of range";
        return false;
      }
      if (s.totalBytes > kMaxRdmcMessageBytes) {
        why = "field totalBytes: rdmc message of " + std::to_string(s.totalBytes) + " bytes (at most " + std::to_string(kMaxRdmcMessageBytes) + ")";
        return false;
      }
      uint64_t count = rdmcBlockCount(s.totalBytes, s.blockBytes);
      if (count > kMaxRdmcBlocks) {
        why = "field totalBytes: rdmc message of " + std::to_string(count) + " blocks (at most " + std::to_string(kMaxRdmcBlocks) + ")";
        return false;
      }
      if (s.reserved != 0) {
        why = "field reserved: rdmc block with a non-zero reserved field";
        return false;
      }
      if (s.blockNo >= count) {
        why = "field blockNo: rdmc block " + std::to_string(s.blockNo) + " of a " + std::to_string(count) + "-block message";
        return false;
      }
      if (h.payloadLen != rdmcBlockLength(s.totalBytes, s.blockBytes, s.blockNo)) {
        why = "field payloadLen: rdmc block payload of " + std::to_string(h.payloadLen) + " bytes does not match its message layout";
        return false;
      }
      return true;
    }
    case FrameType::RdmcDone: {
      RdmcDoneSub s;
      std::memcpy(&s, sub, sizeof s);
      if (s.reserved != 0) {
        why = "field reserved: rdmc completion with a non-zero reserved field";
        return false;
      }
      return true;
    }
    default:
      return true;
  }
}

bool FrameDecoder::validatePutPayload(const FrameHeader& h, const uint8_t* sub, const uint8_t* payload, std::string& why) {
  PutSub s;
  std::memcpy(&s, sub, sizeof s);
  uint64_t table = uint64_t(s.rangeCount) * sizeof(PutRange);
  DTS_ASSERT(table <= h.payloadLen, "validateSub bounds the range table by the payload");
  uint64_t sum = 0;
  for (uint32_t i = 0; i < s.rangeCount; ++i) {
    PutRange r;
    std::memcpy(&r, payload + i * sizeof(PutRange), sizeof r);
    if (r.length == 0) {
      why = "field ranges: put with an empty range";
      return false;
    }
    sum += r.length;
  }
  if (table + sum != h.payloadLen) {
    why = "field payloadLen: put ranges cover " + std::to_string(sum) + " bytes but the frame carries " + std::to_string(h.payloadLen - table);
    return false;
  }
  return true;
}

bool FrameDecoder::headerDone(Sink& sink) {
  DTS_ASSERT(hdrFill_ == sizeof(FrameHeader), "a header of " + std::to_string(hdrFill_) + " bytes");
  std::memcpy(&hdr_, hdrBuf_, sizeof hdr_);
  hdrFill_ = 0;
  std::string why;
  if (!validateHeader(hdr_, why, authenticated_)) {
    fail(why);
    return false;
  }
  state_ = State::Sub;
  subFill_ = 0;
  if (hdr_.subLen == 0) return subDone(sink);
  return true;
}

bool FrameDecoder::subDone(Sink& sink) {
  DTS_ASSERT(hdr_.subLen <= kMaxSubLen && subFill_ == hdr_.subLen, "sub-header of " + std::to_string(subFill_) + " bytes");
  std::string why;
  if (!validateSub(hdr_, subBuf_, why)) {
    fail(why);
    return false;
  }
  state_ = State::Payload;
  payloadFill_ = 0;
  direct_ = hdr_.payloadLen > 0 ? sink.payloadTarget(hdr_, subBuf_) : nullptr;
  if (failed_) return false;
  if (!direct_) payload_.clear();
  if (hdr_.payloadLen == 0) return payloadDone(sink);
  return true;
}

bool FrameDecoder::payloadDone(Sink& sink) {
  const uint8_t* payload = direct_ ? direct_ : payload_.data();
  if (hdr_.type == static_cast<uint8_t>(FrameType::Put)) {
    std::string why;
    if (!validatePutPayload(hdr_, subBuf_, payload, why)) {
      fail(why);
      return false;
    }
  }
  state_ = State::Header;
  direct_ = nullptr;
  ++frames_;
  return sink.onFrame(hdr_, subBuf_, payload);
}

bool FrameDecoder::feed(const uint8_t* data, size_t len, Sink& sink) {
  if (failed_) return false;
  while (len > 0) {
    switch (state_) {
      case State::Header: {
        size_t take = std::min(len, sizeof(FrameHeader) - hdrFill_);
        std::memcpy(hdrBuf_ + hdrFill_, data, take);
        hdrFill_ += take;
        data += take;
        len -= take;
        if (hdrFill_ == sizeof(FrameHeader) && !headerDone(sink)) return false;
        break;
      }
      case State::Sub: {
        size_t take = std::min(len, size_t(hdr_.subLen) - subFill_);
        std::memcpy(subBuf_ + subFill_, data, take);
        subFill_ += take;
        data += take;
        len -= take;
        if (subFill_ == hdr_.subLen && !subDone(sink)) return false;
        break;
      }
      case State::Payload: {
        DTS_ASSERT(payloadFill_ <= hdr_.payloadLen, "payload filled past its length");
        size_t take = size_t(std::min<uint64_t>(len, hdr_.payloadLen - payloadFill_));
        if (direct_) {
          std::memcpy(direct_ + payloadFill_, data, take);
        } else {
          payload_.insert(payload_.end(), data, data + take);
        }
        payloadFill_ += take;
        data += take;
        len -= take;
        if (payloadFill_ == hdr_.payloadLen && !payloadDone(sink)) return false;
        break;
      }
    }
  }
  return true;
}

bool FrameDecoder::directSpan(uint8_t** p, size_t* len) const {
  if (failed_ || state_ != State::Payload || !direct_) return false;
  *p = direct_ + payloadFill_;
  *len = size_t(hdr_.payloadLen - payloadFill_);
  return *len > 0;
}

bool FrameDecoder::directFilled(size_t n, Sink& sink) {
  DTS_ASSERT(state_ == State::Payload && direct_ && n <= hdr_.payloadLen - payloadFill_,
             "direct fill of " + std::to_string(n) + " bytes with " + std::to_string(hdr_.payloadLen - payloadFill_) + " expected");
  payloadFill_ += n;
  if (payloadFill_ == hdr_.payloadLen) return payloadDone(sink);
  return true;
}

}  // namespace dts
