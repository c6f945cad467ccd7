#include "frame_fuzzer.h"

#include <algorithm>
#include <cstring>

namespace dts {
namespace {
template <typename T>
void put(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}
void putN(std::vector<uint8_t>& b, size_t at, size_t bytes, uint64_t v) {
  std::memcpy(b.data() + at, &v, bytes);  // little-endian host (wire.h)
}
}  // namespace

FrameFuzzer::FrameFuzzer(uint64_t seed, FuzzTargets targets) : state_(seed * 0x9E3779B97F4A7C15ull + 1), t_(std::move(targets)) {}

uint64_t FrameFuzzer::random() {
  // xorshift64*: fast, and enough for choosing mutations.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return state_ * 0x2545F4914F6CDD1Dull;
}

uint32_t FrameFuzzer::pick(const std::vector<uint32_t>& from) {
  // One pick in four is an id the endpoint does not know: fresh state (a new group, a stranger).
  if (from.empty() || below(4) == 0) return uint32_t(random());
  return from[below(uint32_t(from.size()))];
}

uint32_t FrameFuzzer::pickNode() {
  return pick(t_.nodeIds);
}

uint64_t FrameFuzzer::interesting() {
  static const uint64_t values[] = {0, 1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 127, 128, 255, 256, 4095, 4096, 4097, 65535, 65536,
                                    (1ull << 20), (64ull << 20), (64ull << 20) + 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
                                    1ull << 32, (1ull << 32) + 1, 1ull << 40, (1ull << 40) + 1, 1ull << 62, 1ull << 63, ~0ull - 1, ~0ull};
  switch (below(4)) {
    case 0: return random();
    case 1: return pick(t_.nodeIds);
    default: return values[below(sizeof values / sizeof values[0])];
  }
}

std::vector<uint8_t> FrameFuzzer::wellFormed(FrameType type, std::vector<Field>& fields) {
  const size_t H = sizeof(FrameHeader);
  size_t subLen = 0, payloadLen = 0;
  std::vector<uint8_t> f;
  fields = {{0, 2}, {2, 1}, {3, 1}, {4, 4}, {8, 8}};
  auto header = [&](size_t sub, size_t payload) {
    subLen = sub;
    payloadLen = payload;
    f.assign(H + sub + payload, 0);
    FrameHeader h = makeHeader(type, uint32_t(sub), payload);
    std::memcpy(f.data(), &h, sizeof h);
  };
  switch (type) {
    case FrameType::Hello:
    case FrameType::HelloAck: {
      size_t sub = type == FrameType::Hello ? sizeof(HelloSub) : sizeof(HelloAckSub);
      const char* build = "test-build";
      header(sub, below(4) ? std::strlen(build) : below(300));
      put<uint32_t>(f, H, below(8) ? kProtocolVersion : uint32_t(random()));
      put<uint32_t>(f, H + 4, pickNode());
      for (size_t i = 8; i < sub; ++i) f[H + i] = uint8_t(random());
      if (payloadLen == std::strlen(build)) std::memcpy(f.data() + H + sub, build, payloadLen);
      fields.insert(fields.end(), {{H, 4}, {H + 4, 4}, {H + 8, 8}});
      break;
    }
    case FrameType::Reject: {
      header(0, below(64));
      for (size_t i = 0; i < payloadLen; ++i) f[H + i] = uint8_t(random());
      break;
    }
    case FrameType::Proof: {
      header(sizeof(ProofSub), 0);
      for (size_t i = 0; i < subLen; ++i) f[H + i] = uint8_t(random());
      fields.push_back({H, 8});
      break;
    }
    case FrameType::Put: {
      uint32_t ranges = 1 + below(4);
      std::vector<PutRange> table(ranges);
      size_t data = 0;
      for (auto& r : table) {
        r.offset = below(4) ? below(64) : uint32_t(interesting());
        r.length = 1 + below(32);
        data += r.length;
      }
      header(sizeof(PutSub), ranges * sizeof(PutRange) + data);
      put<uint32_t>(f, H, pick(t_.regionIds));
      put<uint32_t>(f, H + 4, ranges);
      put<uint64_t>(f, H + 8, below(4) ? 0 : 1 + below(3));
      fields.insert(fields.end(), {{H, 4}, {H + 4, 4}, {H + 8, 8}});
      for (uint32_t i = 0; i < ranges; ++i) {
        std::memcpy(f.data() + H + subLen + i * sizeof(PutRange), &table[i], sizeof(PutRange));
        fields.insert(fields.end(), {{H + subLen + i * sizeof(PutRange), 4}, {H + subLen + i * sizeof(PutRange) + 4, 4}});
      }
      for (size_t i = H + subLen + ranges * sizeof(PutRange); i < f.size(); ++i) f[i] = uint8_t(random());
      break;
    }
    case FrameType::PutAck: {
      header(sizeof(PutAckSub), 0);
      put<uint64_t>(f, H, below(4));
      fields.push_back({H, 8});
      break;
    }
    case FrameType::P2P: {
      header(0, below(8) ? below(200) : 4096 + below(70000));
      for (size_t i = H; i < f.size(); i += 64) f[i] = uint8_t(random());
      break;
    }
    case FrameType::RdmcBlock: {
      static const uint32_t sizes[] = {1, 16, 100, 4096};
      uint32_t blockBytes = sizes[below(4)];
      uint64_t total = below(6) == 0 ? 0 : 1 + below(blockBytes * 4);
      uint64_t blocks = rdmcBlockCount(total, blockBytes);
      uint32_t blockNo = below(uint32_t(blocks));
      header(sizeof(RdmcBlockSub), rdmcBlockLength(total, blockBytes, blockNo));
      RdmcBlockSub s{pick(t_.groupIds), blockNo, below(3), total, blockBytes, 0};
      std::memcpy(f.data() + H, &s, sizeof s);
      for (size_t i = H + subLen; i < f.size(); ++i) f[i] = uint8_t(i);
      fields.insert(fields.end(), {{H, 4}, {H + 4, 4}, {H + 8, 8}, {H + 16, 8}, {H + 24, 4}, {H + 28, 4}});
      break;
    }
    case FrameType::RdmcDone: {
      header(sizeof(RdmcDoneSub), 0);
      RdmcDoneSub s{pick(t_.groupIds), 0, below(3)};
      std::memcpy(f.data() + H, &s, sizeof s);
      fields.insert(fields.end(), {{H, 4}, {H + 4, 4}, {H + 8, 8}});
      break;
    }
  }
  return f;
}

void FrameFuzzer::resizeRdmc(std::vector<uint8_t>& f) {
  // A consistent lie about the message layout: block size, total size and block number changed
  // together and the payload made to match, so the frame passes the layout checks and reaches the
  // handler with extreme sizes (block counts past 32 bits, one-byte blocks, the last block).
  const size_t H = sizeof(FrameHeader);
  if (f.size() < H + sizeof(RdmcBlockSub) || f[2] != uint8_t(FrameType::RdmcBlock)) return;
  static const uint32_t blockSizes[] = {1, 2, 3, 7, 4096, 65536, uint32_t(kMaxBlockBytes)};
  RdmcBlockSub s;
  std::memcpy(&s, f.data() + H, sizeof s);
  s.blockBytes = blockSizes[below(sizeof blockSizes / sizeof blockSizes[0])];
  s.totalBytes = below(2) ? interesting() : uint64_t(s.blockBytes) * (uint64_t(1) << (20 + below(20))) + below(3);
  uint64_t blocks = rdmcBlockCount(s.totalBytes, s.blockBytes);
  uint64_t choices[] = {0, 1, blocks - 1, random() % blocks, blocks};
  s.blockNo = uint32_t(choices[below(5)]);
  s.msgIndex = below(2);
  std::memcpy(f.data() + H, &s, sizeof s);
  uint64_t len = rdmcBlockLength(s.totalBytes, s.blockBytes, s.blockNo);
  FrameHeader h;
  std::memcpy(&h, f.data(), sizeof h);
  h.payloadLen = len;
  std::memcpy(f.data(), &h, sizeof h);
  // Payloads up to 64 KiB are sent whole; a longer one is cut short (the connection then ends).
  f.resize(H + sizeof(RdmcBlockSub) + std::min<uint64_t>(len, 65536), 0x5a);
}

void FrameFuzzer::mutate(std::vector<uint8_t>& f, const std::vector<Field>& fields) {
  if (f.size() > 2 && f[2] == uint8_t(FrameType::RdmcBlock) && below(4) == 0) return resizeRdmc(f);
  switch (below(8)) {
    case 0:
    case 1:
    case 2: {  // one field to a boundary value (the most telling mutation: weighted up)
      const Field& fd = fields[below(uint32_t(fields.size()))];
      if (fd.offset + fd.bytes <= f.size()) putN(f, fd.offset, fd.bytes, interesting());
      break;
    }
    case 3:  // one bit anywhere
      if (!f.empty()) f[below(uint32_t(f.size()))] ^= uint8_t(1u << below(8));
      break;
    case 4:  // cut short (the rest never comes: the connection is closed after it)
      f.resize(below(uint32_t(f.size())));
      break;
    case 5:  // another kind's type on this body
      if (f.size() > 2) f[2] = uint8_t(below(11));
      break;
    case 6: {  // trailing bytes: a second frame that starts as garbage
      size_t n = below(48);
      for (size_t i = 0; i < n; ++i) f.push_back(uint8_t(random()));
      break;
    }
    default:  // a byte of the sub-header or payload at random
      if (f.size() > sizeof(FrameHeader)) f[sizeof(FrameHeader) + below(uint32_t(f.size() - sizeof(FrameHeader)))] = uint8_t(random());
      break;
  }
}

std::vector<uint8_t> FrameFuzzer::next(FrameType type) {
  std::vector<Field> fields;
  std::vector<uint8_t> f = wellFormed(type, fields);
  if (below(4) == 0) return f;
  uint32_t n = 1 + below(3);
  for (uint32_t i = 0; i < n; ++i) mutate(f, fields);
  return f;
}

}  // namespace dts
