// A Connection over TLS on a TCP socket (OpenSSL), full duplex: one thread
// may read while others write, as every rcuda connection is used (a
// session's reader thread and its writers; a worker's session loop and its
// wait pool).
//
// An OpenSSL SSL object serves one call at a time, so every call into it
// holds ssl_mu_, and none of them blocks: the socket is non-blocking,
// records are read straight from it (read-ahead) and written to a buffer
// (a BIO of our own), which the writer then takes and sends outside the
// lock. A reader
// waiting for data or a writer waiting for room sleeps in poll() without
// the lock. Asio's ssl::stream is not used: its synchronous operations own
// the SSL object for a whole read or write (a reader blocked on the socket
// would stop every writer) and lose ciphertext on a non-blocking socket.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "protocol/tls/tls_context.h"
#include "protocol/transport.h"

namespace rcuda {

class TlsConnection final : public Connection {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes `fd`, a connected TCP socket (made non-blocking). `peer` names
  // it in messages ("tls 10.0.0.5:41234").
  TlsConnection(int fd, std::shared_ptr<const TlsContext> context, std::string peer);
  ~TlsConnection() override;
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // Whether the SSL object could be made (out of memory otherwise).
  Status Init();

  // The client's handshake: the server's certificate must chain to the
  // context's CAs and name `verify_name` (a host name: a DNS SAN; an IP
  // address: an IP SAN). `before_first_read` runs once, when the client
  // first waits for the server (after its ClientHello is out): it may look
  // at what arrives (a plaintext answer) and fail the handshake.
  Status Connect(const std::string& verify_name, Clock::time_point deadline,
                 const std::function<Status(int fd, Clock::time_point deadline)>& before_first_read = nullptr);
  // The server's handshake.
  Status Accept(Clock::time_point deadline);

  // Reads and writes fail once `deadline` passes (nullopt: no deadline).
  void SetDeadline(std::optional<Clock::time_point> deadline);

  Status WriteAll(std::span<const ConstBuffer> buffers) override;
  Status ReadExact(void* data, size_t size) override;
  void Shutdown() override;
  std::string PeerName() const override { return peer_; }
  std::string Kind() const override { return "tls"; }
  std::vector<int> HandoffHandles() const override { return {fd_}; }

  // "TLSv1.3 TLS_AES_256_GCM_SHA384", after the handshake.
  std::string Negotiated() const;
  // The peer certificate's subject ("" without one).
  std::string PeerCertificateSubject() const;

 private:
  // Runs the handshake to its end; `client`: see Connect.
  Status Handshake(Clock::time_point deadline,
                   const std::function<Status(int fd, Clock::time_point deadline)>* before_first_read);
  // Moves the ciphertext OpenSSL produced to sending_ (ssl_mu_ and
  // write_mu_ held).
  void TakeCiphertextLocked();
  // Encrypts `size` bytes into sending_ (write_mu_ held).
  Status Encrypt(const void* data, size_t size);
  // Sends sending_ (write_mu_ held).
  Status Flush();
  // Sleeps until the socket is readable (POLLIN) or writable (POLLOUT),
  // the connection is shut down or the deadline passes.
  Status Wait(short events);
  std::string Failure(int ssl_error, const std::string& what);

  const int fd_;
  std::shared_ptr<const TlsContext> context_;
  const std::string peer_;
  mutable std::mutex ssl_mu_;  // every call into ssl_
  SSL* ssl_ = nullptr;
  BIO* read_bio_ = nullptr;   // the socket; owned by ssl_
  std::vector<char> produced_;  // ciphertext OpenSSL wrote, guarded by ssl_mu_
  std::mutex write_mu_;         // one writer at a time: ciphertext leaves in order
  std::vector<char> sending_;   // ciphertext being sent, guarded by write_mu_
  std::vector<char> gather_;  // small buffers gathered into one record, guarded by write_mu_
  std::mutex read_mu_;        // one reader at a time
  std::mutex deadline_mu_;
  std::optional<Clock::time_point> deadline_;  // guarded by deadline_mu_
  std::atomic<bool> shut_down_{false};
  std::atomic<bool> established_{false};
};

}  // namespace rcuda
