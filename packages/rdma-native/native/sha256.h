// SHA-256 and HMAC-SHA256 for the handshake, from the OpenSSL that ships inside Node: its headers
// are in Node's own include directory (include/node/openssl) and the node binary exports its
// symbols, which the addon binds to at load time. No system libssl, no cryptography of our own.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dts {

class Sha256 {
 public:
  static constexpr size_t kDigestBytes = 32;
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  void finish(uint8_t out[kDigestBytes]);

 private:
  void* ctx_;  // EVP_MD_CTX (kept opaque so this header needs no OpenSSL include)
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
