#include "sha256.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdexcept>
#include <string>

namespace dts {
namespace {
[[noreturn]] void opensslFailed(const char* what) {
  // Only on allocation failure or a Node built without SHA-256: nothing a caller could fix.
  throw std::runtime_error(std::string("OpenSSL (from Node) failed: ") + what);
}

EVP_MAC* hmacAlgorithm() {
  // Fetched once (thread-safe static init); the algorithm object is immutable and shared.
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) opensslFailed("EVP_MAC_fetch(HMAC)");
  return mac;
}
}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1) opensslFailed("EVP_DigestInit_ex(sha256)");
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(const void* data, size_t len) {
  if (len > 0 && EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, len) != 1) opensslFailed("EVP_DigestUpdate");
}

void Sha256::finish(uint8_t out[kDigestBytes]) {
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out, &n) != 1 || n != kDigestBytes) opensslFailed("EVP_DigestFinal_ex");
}

void hmacSha256(const void* key, size_t keyLen, const ByteSpan* parts, size_t partCount, uint8_t out[32]) {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(hmacAlgorithm());
  if (!ctx) opensslFailed("EVP_MAC_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  // OpenSSL refuses a null key pointer even for an empty key.
  static const unsigned char kEmpty = 0;
  bool ok = EVP_MAC_init(ctx, keyLen ? static_cast<const unsigned char*>(key) : &kEmpty, keyLen, params) == 1;
  for (size_t i = 0; ok && i < partCount; ++i)
    if (parts[i].len) ok = EVP_MAC_update(ctx, static_cast<const unsigned char*>(parts[i].data), parts[i].len) == 1;
  size_t n = 0;
  ok = ok && EVP_MAC_final(ctx, out, &n, 32) == 1 && n == 32;
  EVP_MAC_CTX_free(ctx);
  if (!ok) opensslFailed("HMAC-SHA256");
}

bool equalConstantTime(const uint8_t* a, const uint8_t* b, size_t len) { return CRYPTO_memcmp(a, b, len) == 0; }

}  // namespace dts
