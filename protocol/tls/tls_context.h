// TLS settings for rcuda's TCP connections (OpenSSL): what a server presents
// and whom it accepts, what a client trusts. A TlsContext is built once (a
// server at start and in each worker, a client on its first TLS connection)
// and shared by every connection made with it; it never changes after.
//
// Policy, the same on both sides: TLS 1.2 or 1.3 (1.3 preferred: OpenSSL
// negotiates the highest both speak), OpenSSL's default ciphers (AEAD only
// for 1.3; the distribution's security level), no compression, no
// renegotiation, no session tickets or resumption (a connection is one
// session's life).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

struct ssl_ctx_st;

namespace rcuda {

struct TlsServerOptions {
  std::string certificate_file;  // PEM: the server's certificate, then its chain
  std::string key_file;          // PEM: its private key
  // PEM: CAs whose client certificates are accepted; non-empty: clients
  // must present one (mutual TLS).
  std::string client_ca_file;
};

struct TlsClientOptions {
  // PEM: the CAs that may sign the server's certificate; empty: the
  // system's trust store (OpenSSL's default paths, SSL_CERT_FILE/DIR).
  std::string ca_file;
  // PEM: a client certificate (and chain) and its key, for servers that
  // require one; both or neither.
  std::string certificate_file;
  std::string key_file;
};

class TlsContext {
 public:
  static Status ForServer(const TlsServerOptions& options, std::shared_ptr<const TlsContext>* context);
  static Status ForClient(const TlsClientOptions& options, std::shared_ptr<const TlsContext>* context);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }
  bool is_server() const { return server_; }
  bool requires_client_certificate() const { return client_certificates_; }

 private:
  TlsContext(ssl_ctx_st* ctx, bool server, bool client_certificates)
      : ctx_(ctx), server_(server), client_certificates_(client_certificates) {}

  ssl_ctx_st* ctx_;
  bool server_;
  bool client_certificates_;
};

// The reasons OpenSSL queued on this thread, "; "-separated (and clears
// them); `fallback` when there are none.
std::string TlsErrorText(const std::string& fallback);

}  // namespace rcuda
