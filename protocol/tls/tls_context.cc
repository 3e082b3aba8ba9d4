#include "protocol/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace rcuda {
namespace {

// Larger than one record (16 KiB): with read-ahead, one system call brings
// several records of a bulk transfer.
constexpr long kReadBufferBytes = 128 << 10;

// OpenSSL frees its global state at exit unless told not to; the client
// library lives in programs that may call CUDA (and so TLS) from their own
// atexit handlers and static destructors, after such a cleanup. Said at the
// first initialization, before anything else of OpenSSL runs.
void InitOpenSsl() {
  static const bool done = OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, nullptr) == 1;
  (void)done;
}

SSL_CTX* NewContext(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (!ctx) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Compression is off by default in OpenSSL 3; said here so that it stays
  // so (CRIME). Renegotiation (TLS 1.2) would make reads write and writes
  // read; a connection is one session, so no tickets and no cache.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                               // A peer that vanishes without close_notify ends the stream
                               // as a TCP close does; frames carry their own lengths, so a
                               // truncated frame is still an error.
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_default_read_buffer_len(ctx, kReadBufferBytes);
  return ctx;
}

Status LoadCertificate(SSL_CTX* ctx, const std::string& certificate_file, const std::string& key_file,
                       const std::string& whose) {
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate_file.c_str()) != 1) {
    return Status::InvalidValue("cannot load the " + whose + " certificate from " + certificate_file + ": " +
                                TlsErrorText("unreadable"));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::InvalidValue("cannot load the " + whose + " private key from " + key_file + ": " +
                                TlsErrorText("unreadable"));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidValue("the " + whose + " private key " + key_file + " does not match the certificate " +
                                certificate_file);
  }
  return Status::Ok();
}

}  // namespace

std::string TlsErrorText(const std::string& fallback) {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    char buf[256];
    if (!reason) {
      ERR_error_string_n(e, buf, sizeof buf);
      reason = buf;
    }
    if (text.find(reason) != std::string::npos) continue;
    text += (text.empty() ? "" : "; ") + std::string(reason);
  }
  return text.empty() ? fallback : text;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Status TlsContext::ForServer(const TlsServerOptions& options, std::shared_ptr<const TlsContext>* context) {
  if (options.certificate_file.empty() || options.key_file.empty()) {
    return Status::InvalidValue("TLS needs a certificate and its key (--tls-cert, --tls-key)");
  }
  InitOpenSsl();
  ERR_clear_error();
  SSL_CTX* ctx = NewContext(TLS_server_method());
  if (!ctx) return Status::Unavailable("cannot create a TLS context: " + TlsErrorText("out of memory"));
  std::shared_ptr<const TlsContext> made(new TlsContext(ctx, true, !options.client_ca_file.empty()));
  RCUDA_RETURN_IF_ERROR(LoadCertificate(ctx, options.certificate_file, options.key_file, "server"));
  if (!options.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.client_ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidValue("cannot load the client CA file " + options.client_ca_file + ": " +
                                  TlsErrorText("unreadable"));
    }
    // The CA names go in the certificate request, so that a client with
    // several certificates can pick the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  *context = std::move(made);
  return Status::Ok();
}

Status TlsContext::ForClient(const TlsClientOptions& options, std::shared_ptr<const TlsContext>* context) {
  if (options.certificate_file.empty() != options.key_file.empty()) {
    return Status::InvalidValue("a client certificate needs its key, and a key its certificate "
                                "(RCUDA_TLS_CERT and RCUDA_TLS_KEY)");
  }
  InitOpenSsl();
  ERR_clear_error();
  SSL_CTX* ctx = NewContext(TLS_client_method());
  if (!ctx) return Status::Unavailable("cannot create a TLS context: " + TlsErrorText("out of memory"));
  std::shared_ptr<const TlsContext> made(new TlsContext(ctx, false, false));
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidValue("cannot load the CA file " + options.ca_file + ": " + TlsErrorText("unreadable"));
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Status::InvalidValue("cannot load the system's trusted CAs: " + TlsErrorText("unreadable"));
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!options.certificate_file.empty()) {
    RCUDA_RETURN_IF_ERROR(LoadCertificate(ctx, options.certificate_file, options.key_file, "client"));
  }
  *context = std::move(made);
  return Status::Ok();
}

}  // namespace rcuda
