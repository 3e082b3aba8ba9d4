#include "protocol/ucx/ucx_connection.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include "protocol/ucx/ucp_context.h"

namespace rcuda::ucx {
namespace {

// How long a sleeper sleeps before it looks again (a safety net: every
// event that matters wakes it sooner).
constexpr int kRecheckMillis = 100;
// After the bootstrap socket ends, how long what the peer sent before may
// still arrive on UCX's own transport (TCP connections are independent;
// RDMA and shared memory are there already).
constexpr auto kDrainGrace = std::chrono::milliseconds(200);
// A clean close waits this long at most for its end-of-stream message.
constexpr auto kCloseTimeout = std::chrono::seconds(2);
// How often a writer looks at the bootstrap socket at most.
constexpr auto kSocketCheckInterval = std::chrono::milliseconds(1);

// Polling before sleeping saves a wake-up (a few microseconds, more in a
// VM) when the answer is microseconds away. RCUDA_UCX_SPIN_US sets how long;
// by default as the shared-memory transport's (50 us, 5 us on hosts of 1 or
// 2 cores, where a spinner holds the core its peer needs).
std::chrono::nanoseconds SpinTime() {
  static const std::chrono::nanoseconds spin = [] {
    if (const char* v = std::getenv("RCUDA_UCX_SPIN_US")) {
      return std::chrono::nanoseconds(std::max<int64_t>(0, std::atoll(v)) * 1000);
    }
    return std::chrono::nanoseconds(std::thread::hardware_concurrency() > 2 ? 50000 : 5000);
  }();
  return spin;
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

uint64_t RandomTag() {
  uint64_t tag = 0;
  while (tag == 0) {
    if (getrandom(&tag, sizeof tag, 0) != sizeof tag) tag = std::chrono::steady_clock::now().time_since_epoch().count();
    tag &= ~uint64_t{1};  // the low bit marks the end of the stream
  }
  return tag;
}

ucp_request_param_t HostMemoryParam() {
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_MEMORY_TYPE;
  param.memory_type = UCS_MEMORY_TYPE_HOST;  // spares UCX a lookup
  return param;
}

}  // namespace

UcxConnection::UcxConnection(int socket, Side side, std::string peer, std::chrono::milliseconds upgrade_timeout)
    : socket_(socket),
      side_(side),
      owner_(getpid()),
      peer_(std::move(peer)),
      upgrade_timeout_(upgrade_timeout),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

UcxConnection::~UcxConnection() {
  // In a forked child the UCP worker is the parent's: sending an end of
  // stream or closing the endpoint from here would break the parent's
  // session. Only this process's descriptors go.
  if (getpid() != owner_) {
    close(socket_);
    if (wake_fd_ >= 0) close(wake_fd_);
    return;
  }
  {
    std::unique_lock lock(mu_);
    if (worker_ && ep_ && broken_.empty() && !shut_down_.load()) CloseGracefully(lock);
    if (broken_.empty()) broken_ = "the connection to " + peer_ + " is closed";
    TearDown();
  }
  close(socket_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

// ---- Before the upgrade: a byte stream over the bootstrap socket ----------

Status UcxConnection::WriteToSocket(std::span<const ConstBuffer> buffers) {
  for (const auto& b : buffers) {
    Status s = SendAll(socket_, b.data, b.size);
    if (!s.ok()) return Status::IoError("write to " + peer_ + " failed: " + s.message());
  }
  return Status::Ok();
}

Status UcxConnection::ReadFromSocket(void* data, size_t size) {
  Status s = ReceiveExact(socket_, data, size, Deadline::max());
  if (!s.ok()) return Status::IoError("read from " + peer_ + " failed: " + s.message());
  return Status::Ok();
}

Status UcxConnection::AwaitUpgrade() {
  uint32_t magic = 0;
  Status s = ReceiveExact(socket_, &magic, sizeof magic, Deadline::max());
  if (!s.ok()) return Status::IoError("read from " + peer_ + " failed: " + s.message());
  if (magic != kUpgradeMagic) {
    // A server that answers on the socket itself: the stream stays there.
    plain_stream_ = true;
    buffer_.resize(std::max(buffer_.size(), sizeof magic));
    std::memcpy(buffer_.data(), &magic, sizeof magic);
    begin_ = 0;
    end_ = sizeof magic;
    return Status::Ok();
  }
  Upgrade theirs;
  s = ReceiveUpgrade(socket_, Clock::now() + upgrade_timeout_, /*magic_read=*/true, &theirs);
  std::lock_guard lock(mu_);  // writers wait while the stream changes place
  Upgrade mine;
  if (s.ok()) s = CreateWorker(&mine);
  if (s.ok()) s = SendUpgrade(socket_, mine);
  if (s.ok()) s = Connect(theirs);
  if (!s.ok()) {
    Break("UCX set-up with " + peer_ + " failed: " + s.message());
    return Broken();
  }
  upgraded_.store(true);
  return Status::Ok();
}

Status UcxConnection::UpgradeAsServer() {
  std::lock_guard lock(mu_);
  Upgrade mine, theirs;
  Status s = CreateWorker(&mine);
  if (s.ok()) s = SendUpgrade(socket_, mine);
  if (s.ok()) s = ReceiveUpgrade(socket_, Clock::now() + upgrade_timeout_, /*magic_read=*/false, &theirs);
  if (s.ok()) s = Connect(theirs);
  if (!s.ok()) {
    Break("UCX set-up with " + peer_ + " failed: " + s.message());
    return Broken();
  }
  upgraded_.store(true);
  return Status::Ok();
}

Status UcxConnection::CreateWorker(Upgrade* mine) {
  if (wake_fd_ < 0) return Status::IoError(std::string("eventfd: ") + std::strerror(errno));
  ucp_context_h context = nullptr;
  RCUDA_RETURN_IF_ERROR(ProcessContext(&ucp_, &context));
  // A serving process may have made its worker ahead (a warm session
  // worker: UcxPrepareAdoption).
  if (side_ == Side::kServer) worker_ = TakePreparedWorker();
  ucs_status_t st = UCS_OK;
  if (!worker_) {
    // Threads take turns (mu_); none calls UCX concurrently.
    ucp_worker_params_t params = WorkerParams();
    st = ucp_->ucp_worker_create(context, &params, &worker_);
    if (st != UCS_OK) {
      worker_ = nullptr;
      return Status::Unavailable(UcsError("creating a UCX worker", st));
    }
  }
  st = ucp_->ucp_worker_get_efd(worker_, &efd_);
  if (st != UCS_OK) return Status::Unavailable(UcsError("UCX worker event descriptor", st));
  ucp_address_t* address = nullptr;
  size_t length = 0;
  st = ucp_->ucp_worker_get_address(worker_, &address, &length);
  if (st != UCS_OK) return Status::Unavailable(UcsError("UCX worker address", st));
  const auto* bytes = reinterpret_cast<const uint8_t*>(address);
  mine->address.assign(bytes, bytes + length);
  ucp_->ucp_worker_release_address(worker_, address);
  if (mine->address.empty() || mine->address.size() > kMaxWorkerAddressBytes) {
    return Status::Unavailable("UCX worker address of " + std::to_string(length) + " bytes");
  }
  recv_tag_ = RandomTag();
  mine->tag = recv_tag_;
  return Status::Ok();
}

Status UcxConnection::Connect(const Upgrade& theirs) {
  send_tag_ = theirs.tag & ~uint64_t{1};
  ucp_ep_params_t params{};
  params.field_mask =
      UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER;
  params.address = reinterpret_cast<const ucp_address_t*>(theirs.address.data());
  // Peer-failure mode would leave out the shared-memory transports (no peer
  // failure handler in UCX 1.13) and their single-copy path (cma); the
  // bootstrap socket tells of a dead peer instead, for every transport.
  params.err_mode = UCP_ERR_HANDLING_MODE_NONE;
  params.err_handler.cb = &UcxConnection::OnEndpointError;
  params.err_handler.arg = this;
  ucs_status_t st = ucp_->ucp_ep_create(worker_, &params, &ep_);
  if (st != UCS_OK) {
    ep_ = nullptr;
    return Status::Unavailable(UcsError("connecting a UCX endpoint", st));
  }
  return Status::Ok();
}

void UcxConnection::OnEndpointError(void* arg, ucp_ep_h, ucs_status_t) {
  static_cast<UcxConnection*>(arg)->endpoint_failed_.store(true);
}

// ---- The stream over UCP ---------------------------------------------------

Status UcxConnection::WriteAll(std::span<const ConstBuffer> buffers) {
  std::unique_lock lock(mu_);
  if (!broken_.empty()) return Broken();
  // (The client's upgrade, in its reader, holds mu_ while it switches.)
  if (!upgraded_.load()) return WriteToSocket(buffers);
  if (shut_down_.load()) {
    Break("the connection to " + peer_ + " was shut down");
    return Broken();
  }
  // As a write to a closed socket fails: a request nobody waits for must not
  // vanish silently when the peer is gone. (A look at the socket costs a
  // system call: once a millisecond is enough.)
  if (!peer_closed_ && Clock::now() - socket_checked_at_ >= kSocketCheckInterval) {
    socket_checked_at_ = Clock::now();
    CheckSocket();
  }
  if (!broken_.empty()) return Broken();
  if (peer_closed_ || endpoint_failed_.load()) return Status::IoError("write to " + peer_ + " failed: peer gone");

  std::vector<void*> pending;
  size_t blocks = 0;
  std::vector<char>* gathering = nullptr;
  auto post_gathered = [&]() -> Status {
    if (!gathering) return Status::Ok();
    std::vector<char>* block = gathering;
    gathering = nullptr;
    return Post(block->data(), block->size(), send_tag_, &pending);
  };
  for (const ConstBuffer& b : buffers) {
    if (b.size == 0) continue;
    if (b.size < kGatherBelow) {
      if (gathering && gathering->size() + b.size > kFragmentBytes) RCUDA_RETURN_IF_ERROR(post_gathered());
      if (!gathering) {
        if (gathered_.size() <= blocks) gathered_.emplace_back();
        gathering = &gathered_[blocks++];
        gathering->clear();
      }
      const char* p = static_cast<const char*>(b.data);
      gathering->insert(gathering->end(), p, p + b.size);
      continue;
    }
    RCUDA_RETURN_IF_ERROR(post_gathered());
    const char* p = static_cast<const char*>(b.data);
    for (size_t at = 0; at < b.size; at += kFragmentBytes) {
      if (pending.size() >= kMaxInFlight) RCUDA_RETURN_IF_ERROR(Complete(lock, &pending, kMaxInFlight - 1));
      RCUDA_RETURN_IF_ERROR(Post(p + at, std::min(kFragmentBytes, b.size - at), send_tag_, &pending));
    }
  }
  RCUDA_RETURN_IF_ERROR(post_gathered());
  return Complete(lock, &pending, 0);
}

Status UcxConnection::Complete(std::unique_lock<std::mutex>& lock, std::vector<void*>* pending, size_t most) {
  if (pending->size() <= most) return Status::Ok();
  // A sleeping reader re-arms with the new operations in view.
  if (sleeper_) {
    uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof one) < 0) { /* it wakes within kRecheckMillis anyway */
    }
  }
  ucs_status_t failure = UCS_OK;
  RCUDA_RETURN_IF_ERROR(Wait(lock, [&] {
    for (auto it = pending->begin(); it != pending->end();) {
      ucs_status_t s = ucp_->ucp_request_check_status(*it);
      if (s == UCS_INPROGRESS) {
        ++it;
        continue;
      }
      if (s != UCS_OK) failure = s;
      Release(*it);
      it = pending->erase(it);
    }
    return pending->size() <= most;
  }));
  if (failure != UCS_OK) {
    Break(UcsError(("write to " + peer_ + " failed").c_str(), failure));
    return Broken();
  }
  return Status::Ok();
}

Status UcxConnection::Post(const void* data, size_t size, uint64_t tag, std::vector<void*>* pending) {
  ucp_request_param_t param = HostMemoryParam();
  void* request = ucp_->ucp_tag_send_nbx(ep_, data, size, tag, &param);
  if (request == nullptr) return Status::Ok();  // done at once (sent inline)
  if (UCS_PTR_IS_ERR(request)) {
    Break(UcsError(("write to " + peer_ + " failed").c_str(), UCS_PTR_STATUS(request)));
    return Broken();
  }
  pending->push_back(request);
  outstanding_.push_back(request);
  return Status::Ok();
}

void UcxConnection::Release(void* request) {
  auto it = std::find(outstanding_.begin(), outstanding_.end(), request);
  if (it != outstanding_.end()) {
    *it = outstanding_.back();
    outstanding_.pop_back();
  }
  ucp_->ucp_request_free(request);
}

Status UcxConnection::ReadExact(void* data, size_t size) {
  char* out = static_cast<char*>(data);
  while (size) {
    if (begin_ < end_) {
      size_t n = std::min(end_ - begin_, size);
      std::memcpy(out, buffer_.data() + begin_, n);
      begin_ += n;
      out += n;
      size -= n;
      continue;
    }
    if (!upgraded_.load()) {
      {
        std::lock_guard lock(mu_);
        if (!broken_.empty()) return Broken();
      }
      if (side_ == Side::kServer || plain_stream_) return ReadFromSocket(out, size);
      RCUDA_RETURN_IF_ERROR(AwaitUpgrade());
      continue;
    }
    if (end_of_stream_) return Status::IoError("connection closed by " + peer_);
    std::unique_lock lock(mu_);
    size_t direct = 0;
    RCUDA_RETURN_IF_ERROR(ReceiveMessage(lock, out, size, &direct));
    out += direct;
    size -= direct;
  }
  return Status::Ok();
}

Status UcxConnection::ReceiveMessage(std::unique_lock<std::mutex>& lock, char* out, size_t want, size_t* got_direct) {
  *got_direct = 0;
  if (!broken_.empty()) return Broken();
  ucp_tag_recv_info_t info{};
  ucp_tag_message_h message = nullptr;
  RCUDA_RETURN_IF_ERROR(Wait(lock, [&] {
    message = ucp_->ucp_tag_probe_nb(worker_, recv_tag_, ~uint64_t{1}, /*remove=*/1, &info);
    return message != nullptr;
  }));
  const bool end = info.sender_tag & 1;
  const size_t length = info.length;
  if (end ? length != 0 : (length == 0 || length > kFragmentBytes)) {
    Break("a message of " + std::to_string(length) + " bytes from " + peer_ + " (at most " +
          std::to_string(kFragmentBytes) + ")");
    return Broken();
  }
  char none = 0;
  char* target = &none;
  if (!end && length <= want) {
    target = out;  // straight into the caller's memory
  } else if (!end) {
    if (buffer_.size() < length) buffer_.resize(length);
    target = buffer_.data();
  }
  ucp_request_param_t param = HostMemoryParam();
  ucp_tag_recv_info_t received{};
  param.op_attr_mask |= UCP_OP_ATTR_FIELD_RECV_INFO;
  param.recv_info.tag_info = &received;
  void* request = ucp_->ucp_tag_msg_recv_nbx(worker_, target, length, message, &param);
  if (UCS_PTR_IS_ERR(request)) {
    Break(UcsError(("read from " + peer_ + " failed").c_str(), UCS_PTR_STATUS(request)));
    return Broken();
  }
  if (request) {
    outstanding_.push_back(request);
    ucs_status_t status = UCS_INPROGRESS;
    RCUDA_RETURN_IF_ERROR(Wait(lock, [&] {
      status = ucp_->ucp_request_check_status(request);
      return status != UCS_INPROGRESS;
    }));
    Release(request);
    if (status != UCS_OK) {
      Break(UcsError(("read from " + peer_ + " failed").c_str(), status));
      return Broken();
    }
  }
  if (end) {
    end_of_stream_ = true;
  } else if (target == out) {
    *got_direct = length;
  } else {
    begin_ = 0;
    end_ = length;
  }
  return Status::Ok();
}

// ---- Waiting ----------------------------------------------------------------

Status UcxConnection::Wait(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done) {
  const auto spin_until = Clock::now() + SpinTime();
  while (true) {
    if (!broken_.empty()) return Broken();
    const unsigned progressed = Progress();
    if (done()) return Status::Ok();
    if (shut_down_.load()) {
      Break("the connection to " + peer_ + " was shut down");
      continue;
    }
    if (endpoint_failed_.load() && !peer_closed_) {
      peer_closed_ = true;
      peer_closed_at_ = Clock::now();
    }
    const auto now = Clock::now();
    if (peer_closed_ && now - peer_closed_at_ >= kDrainGrace) {
      Break("connection closed by " + peer_);
      continue;
    }
    if (progressed) continue;  // there may be more: look again before spinning
    if (now < spin_until) {
      lock.unlock();
      CpuRelax();
      lock.lock();
      continue;
    }
    RCUDA_RETURN_IF_ERROR(SleepOnce(lock));
  }
}

Status UcxConnection::SleepOnce(std::unique_lock<std::mutex>& lock) {
  if (sleeper_) {
    // Another thread sleeps on the worker; its poll() ending wakes us.
    cv_.wait_for(lock, std::chrono::milliseconds(kRecheckMillis));
    return Status::Ok();
  }
  ucs_status_t st = ucp_->ucp_worker_arm(worker_);
  if (st == UCS_ERR_BUSY) return Status::Ok();  // events pending: progress first
  if (st != UCS_OK) {
    Break(UcsError("waiting on UCX", st));
    return Broken();
  }
  int timeout = kRecheckMillis;
  if (peer_closed_) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(kDrainGrace - (Clock::now() - peer_closed_at_));
    timeout = static_cast<int>(std::clamp<int64_t>(left.count(), 1, kRecheckMillis));
  }
  // The socket's end has been seen: it would stay readable.
  const nfds_t count = peer_closed_ ? 2 : 3;
  pollfd fds[3] = {{efd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}, {socket_, POLLIN, 0}};
  sleeper_ = true;
  lock.unlock();
  poll(fds, count, timeout);
  lock.lock();
  sleeper_ = false;
  if (fds[1].revents) {
    uint64_t value;
    if (read(wake_fd_, &value, sizeof value) < 0) { /* already drained by an earlier read */
    }
  }
  if (count == 3 && fds[2].revents) CheckSocket();
  cv_.notify_all();
  return Status::Ok();
}

unsigned UcxConnection::Progress() {
  unsigned n = ucp_->ucp_worker_progress(worker_);
  // What this progress completed may be what the sleeper waits for.
  if (n && sleeper_) {
    uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof one) < 0) { /* it wakes within kRecheckMillis anyway */
    }
  }
  return n;
}

void UcxConnection::CheckSocket() {
  char byte;
  ssize_t n = recv(socket_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n > 0) {
    // After the upgrade nothing more travels on the socket.
    Break("unexpected bytes on the bootstrap socket from " + peer_);
    return;
  }
  peer_closed_ = true;  // its end (0) or a reset (-1): the peer is gone
  peer_closed_at_ = Clock::now();
}

// ---- Ending -----------------------------------------------------------------

void UcxConnection::Shutdown() {
  shut_down_.store(true);
  ::shutdown(socket_, SHUT_RDWR);
  uint64_t one = 1;
  if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) { /* shutdown(2) wakes a poller too */
  }
  cv_.notify_all();
}

Status UcxConnection::Broken() const { return Status::IoError(broken_); }

void UcxConnection::Break(const std::string& why) {
  if (!broken_.empty()) return;
  broken_ = why;
  // A sleeper may be about to poll the worker's descriptor, which the
  // teardown closes: the eventfd (it stays readable until read) makes that
  // poll return at once, and the sleeper then finds the connection broken.
  if (sleeper_) {
    uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof one) < 0) { /* it wakes within kRecheckMillis anyway */
    }
  }
  TearDown();
  cv_.notify_all();
}

void UcxConnection::CloseGracefully(std::unique_lock<std::mutex>& lock) {
  // The end-of-stream message goes after everything sent before. Its local
  // completion is enough (it is in the transport's hands): a flush would
  // wait for the peer to progress (UCX's TCP puts want acknowledgements),
  // and the peer may be this very thread, about to read.
  static const char kNothing = 0;
  std::vector<void*> pending;
  if (!Post(&kNothing, 0, send_tag_ | 1, &pending).ok() || pending.empty()) return;
  void* fin = pending.front();
  const auto deadline = Clock::now() + kCloseTimeout;
  while (Clock::now() < deadline) {
    Progress();
    if (ucp_->ucp_request_check_status(fin) != UCS_INPROGRESS) {
      Release(fin);
      return;
    }
    pollfd fd{efd_, POLLIN, 0};
    if (ucp_->ucp_worker_arm(worker_) == UCS_OK) poll(&fd, 1, 10);
  }
  // Still pending: the teardown frees it.
}

void UcxConnection::TearDown() {
  if (!worker_) return;
  if (ep_) {
    // Force: without the peer's word. Requests on the endpoint complete
    // (cancelled).
    ucp_request_param_t param{};
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags = UCP_EP_CLOSE_FLAG_FORCE;
    void* closing = ucp_->ucp_ep_close_nbx(ep_, &param);
    if (closing && !UCS_PTR_IS_ERR(closing)) {
      for (int i = 0; i < 1000 && ucp_->ucp_request_check_status(closing) == UCS_INPROGRESS; ++i) {
        ucp_->ucp_worker_progress(worker_);
      }
      ucp_->ucp_request_free(closing);  // done, or released to finish with the worker
    }
    ep_ = nullptr;
  }
  // What is still in flight (a receive): cancelled and released. UCX must
  // have every request released before the worker goes.
  for (void* request : outstanding_) {
    if (ucp_->ucp_request_check_status(request) == UCS_INPROGRESS) ucp_->ucp_request_cancel(worker_, request);
    ucp_->ucp_request_free(request);
  }
  outstanding_.clear();
  // With the worker goes all its state: UCX touches no caller's buffer
  // after this.
  ucp_->ucp_worker_destroy(worker_);
  worker_ = nullptr;
  efd_ = -1;
}

std::string UcxConnection::TransportsInUse() {
  std::lock_guard lock(mu_);
  if (!ep_) return "";
  char* text = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&text, &size);
  if (!f) return "";
  ucp_->ucp_ep_print_info(ep_, f);
  fclose(f);
  // Lines such as "#   lane[0]:  0:tcp/lo.0 md[0] -> ...": the lane's
  // resource is "<index>:<transport>/<device>.<path>".
  std::istringstream lines(std::string(text, size));
  free(text);
  std::vector<std::string> found;
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find("lane[");
    if (at == std::string::npos || (at = line.find("]:", at)) == std::string::npos) continue;
    std::istringstream words(line.substr(at + 2));
    std::string resource;
    words >> resource;
    if (size_t colon = resource.find(':'); colon != std::string::npos) resource.erase(0, colon + 1);
    if (size_t dot = resource.rfind('.'); dot != std::string::npos) resource.erase(dot);
    if (!resource.empty() && std::find(found.begin(), found.end(), resource) == found.end()) found.push_back(resource);
  }
  std::string joined;
  for (const auto& r : found) joined += (joined.empty() ? "" : " ") + r;
  return joined;
}

}  // namespace rcuda::ucx
