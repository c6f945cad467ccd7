// The frame format every connection speaks. All integers are little-endian (the only hosts we
// build for; checked below). A frame is a 16-byte header, a fixed per-type sub-header, then a payload.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace dts {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire format assumes a little-endian host");

// 2: the Hello names the secrets the dialer holds (secret rotation).
constexpr uint32_t kProtocolVersion = 2;
constexpr uint16_t kFrameMagic = 0xDE7C;
constexpr size_t kNonceBytes = 32;
constexpr size_t kMacBytes = 32;
// Cluster secrets a node may hold at once (a rotation: the new one and those it replaces), and the
// bytes of the tag that names one in a Hello (HMAC-SHA256(secret, "derecho-ts secret tag"), cut).
constexpr size_t kMaxSecrets = 4;
constexpr size_t kSecretTagBytes = 8;
constexpr size_t kMaxBuildHashBytes = 256;
constexpr size_t kMaxReasonBytes = 1024;
// Large enough for any SST row batch or RDMC block we allow, small enough that a forged length
// cannot make us allocate gigabytes before the bytes arrive.
constexpr uint64_t kMaxPutPayloadBytes = 64ull << 20;
constexpr uint64_t kMaxP2PPayloadBytes = 1ull << 30;
constexpr uint64_t kMaxBlockBytes = 64ull << 20;
constexpr uint32_t kMaxPutRanges = 4096;
// Before the peer proved the secret only handshake frames are read, none larger than this: a
// stranger cannot make us buffer anything bigger.
constexpr uint64_t kMaxHandshakeFrameBytes = 4096;
// An RDMC message has at most this many blocks (block numbers are 32-bit on the wire, and the
// receiver keeps one flag per block) and at most this many bytes.
constexpr uint64_t kMaxRdmcBlocks = 1ull << 22;
constexpr uint64_t kMaxRdmcMessageBytes = 1ull << 40;

enum class FrameType : uint8_t {
  Hello = 1,     // dialer -> acceptor: who I am, my nonce; payload = build hash
  HelloAck = 2,  // acceptor -> dialer: who I am, my nonce, my proof; payload = build hash
  Reject = 3,    // either way, then close; payload = reason text
  Proof = 4,     // dialer -> acceptor: the dialer's proof
  Put = 5,       // SST write: ranges of the writer's row; payload = range table + bytes
  PutAck = 6,    // completion of a Put that asked for one
  P2P = 7,       // point-to-point message; payload = the message
  RdmcBlock = 8, // one block of an RDMC message; payload = the block
  RdmcDone = 9,  // receiver -> sender: the whole message arrived
};

#pragma pack(push, 1)
struct FrameHeader {
  uint16_t magic;
  uint8_t type;
  uint8_t flags;
  uint32_t subLen;
  uint64_t payloadLen;
};
struct HelloSub {
  uint32_t protocolVersion;
  uint32_t nodeId;
  uint8_t nonce[kNonceBytes];
  // Tags of the secrets the dialer holds, its preferred first; unused slots zero. The acceptor
  // proves the first of its own secrets the dialer holds, so members on [new, old] and on [old]
  // still meet during a rotation.
  uint8_t secretTags[kMaxSecrets][kSecretTagBytes];
};
struct HelloAckSub {
  uint32_t protocolVersion;
  uint32_t nodeId;
  uint8_t nonce[kNonceBytes];
  uint8_t mac[kMacBytes];
};
struct ProofSub {
  uint8_t mac[kMacBytes];
};
struct PutSub {
  uint32_t regionId;
  uint32_t rangeCount;
  uint64_t ackSeq;  // 0: no completion asked
};
struct PutRange {
  uint32_t offset;
  uint32_t length;
};
struct PutAckSub {
  uint64_t ackSeq;
};
struct RdmcBlockSub {
  uint32_t groupId;
  uint32_t blockNo;
  uint64_t msgIndex;
  uint64_t totalBytes;
  uint32_t blockBytes;
  uint32_t reserved;
};
struct RdmcDoneSub {
  uint32_t groupId;
  uint32_t reserved;
  uint64_t msgIndex;
};
#pragma pack(pop)
static_assert(sizeof(FrameHeader) == 16, "header layout");
static_assert(sizeof(RdmcBlockSub) == 32, "rdmc sub-header layout");

constexpr size_t kMaxSubLen = 128;

inline bool isHandshakeFrame(uint8_t type) {
  return type == uint8_t(FrameType::Hello) || type == uint8_t(FrameType::HelloAck) || type == uint8_t(FrameType::Reject) ||
         type == uint8_t(FrameType::Proof);
}
const char* frameTypeName(uint8_t type);

/** The number of blocks an RDMC message of `totalBytes` has (an empty message still has one). */
inline uint64_t rdmcBlockCount(uint64_t totalBytes, uint64_t blockBytes) {
  if (totalBytes == 0) return 1;
  return totalBytes / blockBytes + (totalBytes % blockBytes != 0);  // no overflow near 2^64
}
inline uint64_t rdmcBlockLength(uint64_t totalBytes, uint64_t blockBytes, uint64_t blockNo) {
  uint64_t start = blockNo * blockBytes;
  if (start >= totalBytes) return 0;
  uint64_t rest = totalBytes - start;
  return rest < blockBytes ? rest : blockBytes;
}

inline FrameHeader makeHeader(FrameType type, uint32_t subLen, uint64_t payloadLen) {
  FrameHeader h;
  h.magic = kFrameMagic;
  h.type = static_cast<uint8_t>(type);
  h.flags = 0;
  h.subLen = subLen;
  h.payloadLen = payloadLen;
  return h;
}

}  // namespace dts
