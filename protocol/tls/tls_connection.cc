#include "protocol/tls/tls_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace rcuda {
namespace {

// Buffers smaller than a record are gathered into one (a frame's header and
// message, a small payload); ciphertext goes out in sends of about this.
constexpr size_t kGather = 16 << 10;
constexpr size_t kChunk = 256 << 10;

// The write BIO: OpenSSL's records are appended to the connection's
// buffer (ssl_mu_ held, as for every call into OpenSSL), which the writer
// then takes whole (a swap) and sends outside the lock.
BIO_METHOD* CiphertextSink() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rcuda TLS ciphertext");
    BIO_meth_set_write(m, [](BIO* bio, const char* data, int size) {
      auto* out = static_cast<std::vector<char>*>(BIO_get_data(bio));
      out->insert(out->end(), data, data + size);
      return size;
    });
    BIO_meth_set_ctrl(m, [](BIO*, int cmd, long, void*) -> long { return cmd == BIO_CTRL_FLUSH ? 1 : 0; });
    return m;
  }();
  return method;
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

}  // namespace

TlsConnection::TlsConnection(int fd, std::shared_ptr<const TlsContext> context, std::string peer)
    : fd_(fd), context_(std::move(context)), peer_(std::move(peer)) {
  int flags = fcntl(fd_, F_GETFL);
  if (flags >= 0) fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

TlsConnection::~TlsConnection() {
  if (ssl_) {
    if (established_ && !shut_down_) {
      // Tell the peer the stream ends here (close_notify), best effort:
      // a peer that is not reading is not waited for.
      std::lock_guard wlock(write_mu_);
      {
        std::lock_guard lock(ssl_mu_);
        ERR_clear_error();
        SSL_shutdown(ssl_);
        TakeCiphertextLocked();
      }
      if (!sending_.empty()) (void)!send(fd_, sending_.data(), sending_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    SSL_free(ssl_);
  }
  ERR_clear_error();
  close(fd_);
}

Status TlsConnection::Init() {
  ERR_clear_error();
  ssl_ = SSL_new(context_->native());
  BIO* read_bio = BIO_new_socket(fd_, BIO_NOCLOSE);
  BIO* write_bio = CiphertextSink() ? BIO_new(CiphertextSink()) : nullptr;
  if (!ssl_ || !read_bio || !write_bio) {
    BIO_free(read_bio);
    BIO_free(write_bio);
    return Status::OutOfMemory("cannot set up TLS for " + peer_ + ": " + TlsErrorText("out of memory"));
  }
  BIO_set_data(write_bio, &produced_);
  BIO_set_init(write_bio, 1);
  SSL_set_bio(ssl_, read_bio, write_bio);
  read_bio_ = read_bio;
  return Status::Ok();
}

Status TlsConnection::Connect(const std::string& verify_name, Clock::time_point deadline,
                              const std::function<Status(int fd, Clock::time_point deadline)>& before_first_read) {
  SSL_set_connect_state(ssl_);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  // The name must be in the certificate's subjectAltName: no fallback to
  // the subject's common name, no partial wildcards.
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (IsIpAddress(verify_name)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, verify_name.c_str()) != 1) {
      return Status::InvalidValue("cannot verify the server as " + verify_name);
    }
  } else if (SSL_set1_host(ssl_, verify_name.c_str()) != 1 ||
             SSL_set_tlsext_host_name(ssl_, verify_name.c_str()) != 1) {
    return Status::InvalidValue("cannot verify the server as '" + verify_name + "'");
  }
  return Handshake(deadline, before_first_read ? &before_first_read : nullptr);
}

Status TlsConnection::Accept(Clock::time_point deadline) {
  SSL_set_accept_state(ssl_);
  return Handshake(deadline, nullptr);
}

Status TlsConnection::Handshake(Clock::time_point deadline,
                                const std::function<Status(int fd, Clock::time_point deadline)>* before_first_read) {
  SetDeadline(deadline);
  std::lock_guard wlock(write_mu_);
  bool first_read = true;
  if (before_first_read) {
    // Until the callback has looked, OpenSSL reads from an empty memory
    // BIO: its first flight goes out, and nothing the server answered is
    // consumed (with read-ahead it would read a fast answer at once).
    BIO* empty = BIO_new(BIO_s_mem());
    if (!empty) return Status::OutOfMemory("cannot set up TLS for " + peer_);
    BIO_set_mem_eof_return(empty, -1);
    BIO_up_ref(read_bio_);
    SSL_set0_rbio(ssl_, empty);
  }
  // However the handshake ends, the socket is ssl_'s read BIO again.
  struct Restore {
    TlsConnection* c;
    bool* pending;
    ~Restore() {
      if (*pending) SSL_set0_rbio(c->ssl_, c->read_bio_);
    }
  } restore{this, &first_read};
  if (!before_first_read) first_read = false;
  while (true) {
    int result, error = SSL_ERROR_NONE;
    std::string why;
    {
      std::lock_guard lock(ssl_mu_);
      ERR_clear_error();
      result = SSL_do_handshake(ssl_);
      if (result != 1) error = SSL_get_error(ssl_, result);
      if (result != 1 && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
        why = Failure(error, "TLS handshake with " + peer_ + " failed");
      }
      TakeCiphertextLocked();
    }
    // Even after a failure: the alert tells the peer why.
    Status sent = Flush();
    if (!why.empty()) return Status::Unavailable(why);
    RCUDA_RETURN_IF_ERROR(sent);
    if (result == 1) {
      established_ = true;
      SetDeadline(std::nullopt);
      return Status::Ok();
    }
    if (error == SSL_ERROR_WANT_READ && first_read) {
      first_read = false;
      SSL_set0_rbio(ssl_, read_bio_);  // from now on the socket (our reference goes to ssl_)
      RCUDA_RETURN_IF_ERROR((*before_first_read)(fd_, deadline));
      continue;
    }
    Status waited = Wait(error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN);
    if (!waited.ok()) return Status::Unavailable("TLS handshake with " + peer_ + ": " + waited.message());
  }
}

std::string TlsConnection::Failure(int ssl_error, const std::string& what) {
  if (shut_down_) return what + ": the connection was shut down";
  if (ssl_error == SSL_ERROR_ZERO_RETURN) return what + ": the peer closed the connection";
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    return what + ": " + (context_->is_server() ? "the client's" : "the server's") +
           " certificate was refused: " + X509_verify_cert_error_string(verify);
  }
  int saved_errno = errno;
  std::string text = TlsErrorText("");
  if (text.empty() && ssl_error == SSL_ERROR_SYSCALL) {
    text = saved_errno ? std::strerror(saved_errno) : "the peer closed the connection";
  }
  return what + ": " + (text.empty() ? "TLS error " + std::to_string(ssl_error) : text);
}

void TlsConnection::SetDeadline(std::optional<Clock::time_point> deadline) {
  std::lock_guard lock(deadline_mu_);
  deadline_ = deadline;
}

Status TlsConnection::Wait(short events) {
  while (true) {
    if (shut_down_) return Status::IoError("the connection to " + peer_ + " was shut down");
    int timeout_ms = -1;
    {
      std::lock_guard lock(deadline_mu_);
      if (deadline_) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - Clock::now());
        if (left.count() <= 0) return Status::Unavailable("timed out waiting for " + peer_);
        timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
      }
    }
    pollfd p{fd_, events, 0};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR) return Status::IoError("poll on " + peer_ + " failed: " + std::strerror(errno));
    // Ready, hung up or in error: the next call into OpenSSL finds out which.
    if (n > 0) return Status::Ok();
  }
}

void TlsConnection::TakeCiphertextLocked() {
  if (sending_.empty()) {
    sending_.swap(produced_);  // no copy: the two buffers take turns
  } else {
    sending_.insert(sending_.end(), produced_.begin(), produced_.end());
  }
  produced_.clear();
}

Status TlsConnection::Encrypt(const void* data, size_t size) {
  std::lock_guard lock(ssl_mu_);
  ERR_clear_error();
  size_t written = 0;
  int result = SSL_write_ex(ssl_, data, size, &written);
  if (result != 1 || written != size) {
    return Status::IoError(Failure(SSL_get_error(ssl_, result), "write to " + peer_ + " failed"));
  }
  TakeCiphertextLocked();
  return Status::Ok();
}

Status TlsConnection::Flush() {
  size_t sent = 0;
  Status s;
  while (sent < sending_.size()) {
    ssize_t n = send(fd_, sending_.data() + sent, sending_.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      s = Wait(POLLOUT);
      if (!s.ok()) break;
    } else {
      s = Status::IoError("write to " + peer_ + " failed: " + std::strerror(n < 0 ? errno : EPIPE));
      break;
    }
  }
  sending_.clear();
  return s;
}

Status TlsConnection::WriteAll(std::span<const ConstBuffer> buffers) {
  std::lock_guard wlock(write_mu_);
  if (shut_down_) return Status::IoError("the connection to " + peer_ + " was shut down");
  // A peer that has ended the stream (rcuda's peers never half-close)
  // reads nothing more: fail now, as a plain TCP write to it fails, rather
  // than let the kernel take data nobody will read.
  pollfd ended{fd_, POLLRDHUP, 0};
  if (poll(&ended, 1, 0) > 0 && (ended.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
    // Its last words may say why (a TLS 1.3 server refuses a client's
    // certificate after the client's handshake is done, with an alert).
    std::string why = "the peer closed the connection";
    {
      std::lock_guard lock(ssl_mu_);
      ERR_clear_error();
      char byte;
      size_t n = 0;
      int result = SSL_peek_ex(ssl_, &byte, 1, &n);
      int error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, result);
      if (error == SSL_ERROR_SSL) why = Failure(error, "the peer ended the connection");
      ERR_clear_error();
    }
    return Status::IoError("write to " + peer_ + " failed: " + why);
  }
  size_t i = 0;
  while (i < buffers.size()) {
    if (buffers[i].size < kGather) {
      gather_.clear();
      while (i < buffers.size() && gather_.size() + buffers[i].size <= kGather) {
        const char* p = static_cast<const char*>(buffers[i].data);
        gather_.insert(gather_.end(), p, p + buffers[i].size);
        ++i;
      }
      if (!gather_.empty()) RCUDA_RETURN_IF_ERROR(Encrypt(gather_.data(), gather_.size()));
    } else {
      const char* p = static_cast<const char*>(buffers[i].data);
      for (size_t left = buffers[i].size; left > 0;) {
        size_t n = std::min(left, kChunk);
        RCUDA_RETURN_IF_ERROR(Encrypt(p, n));
        p += n;
        left -= n;
        if (sending_.size() >= kChunk) RCUDA_RETURN_IF_ERROR(Flush());
      }
      ++i;
    }
    if (sending_.size() >= kChunk) RCUDA_RETURN_IF_ERROR(Flush());
  }
  return Flush();
}

Status TlsConnection::ReadExact(void* data, size_t size) {
  std::lock_guard rlock(read_mu_);
  char* out = static_cast<char*>(data);
  while (size > 0) {
    size_t got = 0;
    int error = SSL_ERROR_NONE;
    std::string why;
    {
      std::lock_guard lock(ssl_mu_);
      ERR_clear_error();
      errno = 0;
      int result = SSL_read_ex(ssl_, out, size, &got);
      if (result != 1) error = SSL_get_error(ssl_, result);
      if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
        why = error == SSL_ERROR_ZERO_RETURN && !shut_down_ ? "connection closed by " + peer_
                                                             : Failure(error, "read from " + peer_ + " failed");
      }
    }
    if (!why.empty()) return Status::IoError(why);
    if (error == SSL_ERROR_NONE) {
      out += got;
      size -= got;
      continue;
    }
    Status waited = Wait(error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN);
    if (!waited.ok()) return Status::IoError("read from " + peer_ + " failed: " + waited.message());
  }
  return Status::Ok();
}

void TlsConnection::Shutdown() {
  shut_down_ = true;
  ::shutdown(fd_, SHUT_RDWR);
}

std::string TlsConnection::Negotiated() const {
  std::lock_guard lock(ssl_mu_);
  if (!ssl_ || !established_) return "";
  return std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_);
}

std::string TlsConnection::PeerCertificateSubject() const {
  std::lock_guard lock(ssl_mu_);
  if (!ssl_) return "";
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (!cert) return "";
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

}  // namespace rcuda
