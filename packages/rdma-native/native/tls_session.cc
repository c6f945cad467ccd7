#include "tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <stdexcept>

namespace dts {
namespace {

std::string opensslErrors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

/** Every certificate in a PEM text, in order (throws when there is none or one is malformed). */
std::vector<X509*> readCertificates(const std::string& pem, const char* what) {
  std::vector<X509*> certs;
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  if (!bio) throw std::runtime_error(std::string("TLS: cannot read the ") + what + ": out of memory");
  while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) certs.push_back(x);
  // The loop ends on "no start line" at the end of the text; anything else is a broken PEM.
  unsigned long e = ERR_peek_last_error();
  bool atEnd = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
  BIO_free(bio);
  if (certs.empty() || !atEnd) {
    std::string detail = e == 0 || atEnd ? "no PEM certificate found" : opensslErrors();
    ERR_clear_error();
    for (X509* x : certs) X509_free(x);
    throw std::runtime_error(std::string("TLS: the ") + what + " is not a PEM certificate: " + detail);
  }
  ERR_clear_error();
  return certs;
}

}  // namespace

TlsContext::TlsContext(const std::string& caPem, const std::string& certPem, const std::string& keyPem) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (!ctx) throw std::runtime_error("TLS: SSL_CTX_new failed: " + opensslErrors());
  ctx_ = ctx;
  auto fail = [&](const std::string& why) {
    SSL_CTX_free(ctx);
    ctx_ = nullptr;
    throw std::runtime_error(why);
  };
  // TLS 1.3 only; no session tickets (connections live long, and a ticket is one more message
  // the acceptor would send after the handshake); peers authenticate each other.
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  try {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (X509* ca : readCertificates(caPem, "cluster CA (caFile)")) {
      int ok = X509_STORE_add_cert(store, ca);
      X509_free(ca);
      if (ok != 1) fail("TLS: cannot use the cluster CA (caFile): " + opensslErrors());
    }
    std::vector<X509*> chain = readCertificates(certPem, "node certificate (certFile)");
    bool ok = SSL_CTX_use_certificate(ctx, chain[0]) == 1;
    X509_free(chain[0]);
    for (size_t i = 1; i < chain.size(); ++i) {
      // add0: the context takes the reference on success.
      if (ok && SSL_CTX_add0_chain_cert(ctx, chain[i]) == 1) continue;
      X509_free(chain[i]);
      ok = false;
    }
    if (!ok) fail("TLS: cannot use the node certificate (certFile): " + opensslErrors());
  } catch (const std::runtime_error&) {
    if (ctx_) SSL_CTX_free(ctx);
    ctx_ = nullptr;
    throw;
  }
  BIO* bio = BIO_new_mem_buf(keyPem.data(), int(keyPem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  if (bio) BIO_free(bio);
  if (!key) fail("TLS: the node key (keyFile) is not an unencrypted PEM private key: " + opensslErrors());
  bool used = SSL_CTX_use_PrivateKey(ctx, key) == 1;
  EVP_PKEY_free(key);
  if (!used) fail("TLS: cannot use the node key (keyFile): " + opensslErrors());
  if (SSL_CTX_check_private_key(ctx) != 1) fail("TLS: the node key (keyFile) does not match the node certificate (certFile)");
  ERR_clear_error();
}

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

TlsSession::TlsSession(const TlsContext& ctx, bool client) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx.native()));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (!ssl || !in || !out) {
    if (ssl) SSL_free(ssl);
    if (in) BIO_free(in);
    if (out) BIO_free(out);
    throw std::runtime_error("TLS: out of memory for a connection");
  }
  SSL_set_bio(ssl, in, out);  // the SSL owns both from here
  if (client) SSL_set_connect_state(ssl);
  else SSL_set_accept_state(ssl);
  ssl_ = ssl;
  rbio_ = in;
  wbio_ = out;
}

TlsSession::~TlsSession() { SSL_free(static_cast<SSL*>(ssl_)); }

void TlsSession::feed(const uint8_t* data, size_t len) {
  // A memory BIO takes everything (it grows); the caller feeds only when the session asks for more.
  BIO_write(static_cast<BIO*>(rbio_), data, int(len));
}

std::string TlsSession::failure(int ret, const char* during) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  int err = SSL_get_error(ssl, ret);
  long verify = SSL_get_verify_result(ssl);
  std::string why;
  if (verify != X509_V_OK) {
    why = std::string("the peer's certificate was rejected: ") + X509_verify_cert_error_string(verify);
  } else if (err == SSL_ERROR_SSL) {
    why = opensslErrors();
  } else {
    why = std::string("TLS error ") + std::to_string(err) + " during " + during;
  }
  ERR_clear_error();
  return why;
}

TlsSession::Result TlsSession::handshake(std::string& why) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  ERR_clear_error();
  int r = SSL_do_handshake(ssl);
  if (r == 1) return Result::Ok;
  int err = SSL_get_error(ssl, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Result::WantMore;
  why = failure(r, "the handshake");
  return Result::Error;
}

TlsSession::Result TlsSession::read(uint8_t* out, size_t len, size_t& got, std::string& why) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  ERR_clear_error();
  got = 0;
  int r = SSL_read_ex(ssl, out, len, &got);
  if (r == 1) return Result::Ok;
  int err = SSL_get_error(ssl, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Result::WantMore;
  if (err == SSL_ERROR_ZERO_RETURN) return Result::Closed;
  why = failure(r, "a read");
  return Result::Error;
}

bool TlsSession::write(const uint8_t* data, size_t len, std::string& why) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  ERR_clear_error();
  while (len > 0) {
    size_t done = 0;
    // Memory BIOs never refuse bytes, so a write only fails on a real error.
    if (SSL_write_ex(ssl, data, len, &done) != 1) {
      why = failure(0, "a write");
      return false;
    }
    data += done;
    len -= done;
  }
  return true;
}

void TlsSession::takeOutput(std::vector<uint8_t>& out) {
  BIO* bio = static_cast<BIO*>(wbio_);
  size_t pending = BIO_ctrl_pending(bio);
  if (pending == 0) return;
  size_t at = out.size();
  out.resize(at + pending);
  int n = BIO_read(bio, out.data() + at, int(pending));
  out.resize(at + size_t(n > 0 ? n : 0));
}

bool TlsSession::buffered() const {
  return SSL_pending(static_cast<SSL*>(ssl_)) > 0 || BIO_ctrl_pending(static_cast<BIO*>(rbio_)) > 0;
}

bool TlsSession::peerNodeId(uint32_t& nodeId, std::string& why) const {
  X509* cert = SSL_get1_peer_certificate(static_cast<SSL*>(ssl_));
  if (!cert) {
    why = "the peer presented no certificate";
    return false;
  }
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  X509_free(cert);
  const std::string prefix = kCertNodeIdUriPrefix;
  bool found = false;
  std::string seen;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.uniformResourceIdentifier)),
                    size_t(ASN1_STRING_length(n->d.uniformResourceIdentifier)));
    seen += (seen.empty() ? "" : ", ") + uri;
    if (uri.compare(0, prefix.size(), prefix) != 0) continue;
    std::string digits = uri.substr(prefix.size());
    if (digits.empty() || digits.size() > 10 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    unsigned long long v = std::strtoull(digits.c_str(), nullptr, 10);
    if (v >= 0xffffffffull) continue;
    nodeId = uint32_t(v);
    found = true;
  }
  if (names) GENERAL_NAMES_free(names);
  if (!found)
    why = "the peer's certificate carries no node id (a subjectAltName URI " + prefix + "<id>; URIs found: " +
          (seen.empty() ? "none" : seen) + ")";
  return found;
}

}  // namespace dts
