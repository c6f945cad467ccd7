// TLS 1.3 for the TCP provider, from the OpenSSL inside Node (like sha256.cc: headers in Node's
// include directory, symbols exported by the node binary). The provider keeps its own non-blocking
// sockets and epoll loop; a TlsSession is only the cipher state of one connection, fed ciphertext
// and drained of ciphertext through memory BIOs, so no OpenSSL call ever touches a socket.
// OpenSSL types stay out of this header (opaque pointers) so the provider's headers need none.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dts {

/** The node id a certificate carries: a subjectAltName URI `derecho:node:<id>`. */
constexpr const char* kCertNodeIdUriPrefix = "derecho:node:";

/** One endpoint's TLS configuration: the cluster CA, this node's certificate chain and key. */
class TlsContext {
 public:
  /** Throws std::runtime_error naming what is wrong (bad PEM, key not matching the certificate). */
  TlsContext(const std::string& caPem, const std::string& certPem, const std::string& keyPem);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  void* native() const { return ctx_; }

 private:
  void* ctx_;  // SSL_CTX
};

class TlsSession {
 public:
  enum class Result { Ok, WantMore, Closed, Error };
  TlsSession(const TlsContext& ctx, bool client);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /** Ciphertext that arrived from the socket. */
  void feed(const uint8_t* data, size_t len);
  /** Advances the handshake; Ok once it is complete. `why` says what failed on Error. */
  Result handshake(std::string& why);
  /** Decrypted bytes into `out` (at most `len`); WantMore when more ciphertext is needed. */
  Result read(uint8_t* out, size_t len, size_t& got, std::string& why);
  /** Encrypts `len` bytes (the ciphertext waits in takeOutput). */
  bool write(const uint8_t* data, size_t len, std::string& why);
  /** Appends the ciphertext produced so far (handshake messages, records, alerts) to `out`. */
  void takeOutput(std::vector<uint8_t>& out);
  /** Decrypted or undecrypted bytes are held here (the socket may be empty while they wait). */
  bool buffered() const;
  /** The node id in the peer's (verified) certificate; false with `why` when it carries none. */
  bool peerNodeId(uint32_t& nodeId, std::string& why) const;

 private:
  std::string failure(int ret, const char* during);
  void* ssl_;   // SSL
  void* rbio_;  // BIO (memory): ciphertext in
  void* wbio_;  // BIO (memory): ciphertext out
};

}  // namespace dts
