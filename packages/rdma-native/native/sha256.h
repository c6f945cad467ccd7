// SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104), written here so the handshake never depends on a
// system libssl or on whether the running Node exports its bundled OpenSSL symbols.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dts {

class Sha256 {
 public:
  static constexpr size_t kDigestBytes = 32;
  Sha256();
  void update(const void* data, size_t len);
  void finish(uint8_t out[kDigestBytes]);

 private:
  void compress(const uint8_t block[64]);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t bufLen_ = 0;
  uint64_t totalBytes_ = 0;
};

/** One-shot HMAC-SHA256 over the concatenation of `parts`. */
struct ByteSpan {
  const void* data;
  size_t len;
};
void hmacSha256(const void* key, size_t keyLen, const ByteSpan* parts, size_t partCount, uint8_t out[32]);

/** Constant-time comparison, so a forged proof cannot be found byte by byte from timing. */
bool equalConstantTime(const uint8_t* a, const uint8_t* b, size_t len);

}  // namespace dts
