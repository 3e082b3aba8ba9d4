#include "protocol/shm_transport.h"

#include <linux/futex.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <thread>

#include "protocol/fd_message.h"
#include "protocol/shm_copy_threads.h"
#include "protocol/shm_socket.h"

namespace rcuda {
namespace {

// Spinning before sleeping on the futex saves a wake-up (a futex wake and a
// trip through the scheduler, 5 to 20 us in a VM) when the answer is
// microseconds away, which it usually is: a small copy or a short kernel.
// RCUDA_SHM_SPIN_US sets how long (0: sleep at once, for hosts whose cores
// are oversubscribed); by default 50 us, or 5 us on hosts of 1 or 2 cores,
// where the spinner would hold the core its peer needs.
int64_t SpinNanos() {
  static const int64_t nanos = [] {
    if (const char* v = std::getenv("RCUDA_SHM_SPIN_US")) return std::max<int64_t>(0, std::atoll(v)) * 1000;
    return std::thread::hardware_concurrency() > 2 ? int64_t{50000} : int64_t{5000};
  }();
  return nanos;
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until `ready()` or the spin time has passed; whether it became ready.
template <class Ready>
bool SpinUntil(Ready ready) {
  if (ready()) return true;
  const int64_t nanos = SpinNanos();
  if (nanos <= 0) return false;
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 1;; ++i) {
    CpuRelax();
    if (ready()) return true;
    if ((i & 63) == 0 && std::chrono::steady_clock::now() - start >= std::chrono::nanoseconds(nanos)) return false;
  }
}

// A ring step copies at most this much before it publishes its progress, so
// that the peer copies out one piece while this side copies in the next.
constexpr size_t kMaxStep = 2 << 20;
constexpr int kPeerCheckMillis = 100;  // how often a sleeper checks the peer
// A client must send its set-up message at once; at most this many may be
// waiting for theirs (the oldest is dropped to make room).
constexpr auto kSetupTimeout = std::chrono::seconds(5);
constexpr size_t kMaxPendingSetups = 64;

// One direction of the connection, in shared memory. The sequence words are
// what the futexes wait on: `data_seq` moves when bytes were added,
// `space_seq` when removed. Each side writes its own position and only reads
// the peer's; it never trusts what it reads there.
struct alignas(64) RingHeader {
  std::atomic<uint64_t> head;  // read position (consumer)
  char pad0[56];
  std::atomic<uint64_t> tail;  // write position (producer)
  char pad1[56];
  std::atomic<uint32_t> data_seq;
  std::atomic<uint32_t> reader_sleeping;
  std::atomic<uint32_t> space_seq;
  std::atomic<uint32_t> writer_sleeping;
  char pad2[48];
};
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free);
static_assert(sizeof(RingHeader) == kShmRingHeaderBytes);
static_assert(offsetof(RingHeader, head) == kShmHeadOffset && offsetof(RingHeader, tail) == kShmTailOffset);
static_assert((kShmRingBytes & (kShmRingBytes - 1)) == 0 && kMaxStep < kShmRingBytes);

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected, int millis) {
  timespec timeout{millis / 1000, (millis % 1000) * 1000000L};
  // Shared (not FUTEX_PRIVATE): the word lives in memory of two processes.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected, &timeout, nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

struct Ring {
  RingHeader* header;
  char* data;
};

class ShmConnection final : public Connection {
 public:
  // `client`: the connecting side writes ring 0 and reads ring 1.
  ShmConnection(int socket_fd, int memfd, void* region, bool client, std::string peer)
      : socket_(socket_fd), memfd_(memfd), region_(region), peer_(std::move(peer)) {
    char* base = static_cast<char*>(region);
    Ring rings[2];
    for (int i = 0; i < 2; ++i) {
      char* at = base + i * (sizeof(RingHeader) + kShmRingBytes);
      rings[i] = Ring{reinterpret_cast<RingHeader*>(at), at + sizeof(RingHeader)};
    }
    out_ = rings[client ? 0 : 1];
    in_ = rings[client ? 1 : 0];
    // Where this side is: zero for a new region; where the daemon left off
    // for a worker that adopts the connection (any value is safe: only the
    // distance to the peer's position matters, and it is checked).
    write_pos_ = out_.header->tail.load(std::memory_order_acquire);
    read_pos_ = in_.header->head.load(std::memory_order_acquire);
  }

  ~ShmConnection() override {
    munmap(region_, kShmRegionBytes);
    close(memfd_);
    close(socket_);
  }

  Status WriteAll(std::span<const ConstBuffer> buffers) override {
    // Writing into the ring would succeed for a while after the peer died;
    // a request the client does not wait for must fail then, as a write to
    // a closed socket does.
    if (PeerGone()) return Status::IoError("write to " + peer_ + " failed: peer gone");
    for (const auto& b : buffers) {
      const char* p = static_cast<const char*>(b.data);
      size_t n = b.size;
      while (n) {
        RingHeader* h = out_.header;
        const uint64_t used = write_pos_ - h->head.load(std::memory_order_acquire);
        if (used > kShmRingBytes) return Damaged();
        const uint64_t free_bytes = kShmRingBytes - used;
        if (free_bytes == 0) {
          RCUDA_RETURN_IF_ERROR(WaitForSpace());
          continue;
        }
        size_t chunk = std::min<uint64_t>({n, free_bytes, kMaxStep});
        size_t at = write_pos_ & (kShmRingBytes - 1);
        size_t first = std::min(chunk, kShmRingBytes - at);
        ShmCopyThreads::Get().Copy(out_.data + at, p, first);
        if (chunk > first) ShmCopyThreads::Get().Copy(out_.data, p + first, chunk - first);
        write_pos_ += chunk;
        h->tail.store(write_pos_, std::memory_order_release);
        h->data_seq.fetch_add(1, std::memory_order_seq_cst);
        if (h->reader_sleeping.load(std::memory_order_acquire)) FutexWake(&h->data_seq);
        p += chunk;
        n -= chunk;
      }
    }
    return Status::Ok();
  }

  Status ReadExact(void* data, size_t size) override {
    char* p = static_cast<char*>(data);
    while (size) {
      RingHeader* h = in_.header;
      const uint64_t available = h->tail.load(std::memory_order_acquire) - read_pos_;
      if (available > kShmRingBytes) return Damaged();
      if (available == 0) {
        RCUDA_RETURN_IF_ERROR(WaitForData());
        continue;
      }
      size_t chunk = std::min<uint64_t>({size, available, kMaxStep});
      size_t at = read_pos_ & (kShmRingBytes - 1);
      size_t first = std::min(chunk, kShmRingBytes - at);
      ShmCopyThreads::Get().Copy(p, in_.data + at, first);
      if (chunk > first) ShmCopyThreads::Get().Copy(p + first, in_.data, chunk - first);
      read_pos_ += chunk;
      h->head.store(read_pos_, std::memory_order_release);
      h->space_seq.fetch_add(1, std::memory_order_seq_cst);
      if (h->writer_sleeping.load(std::memory_order_acquire)) FutexWake(&h->space_seq);
      p += chunk;
      size -= chunk;
    }
    return Status::Ok();
  }

  void Shutdown() override {
    shut_down_.store(true);
    ::shutdown(socket_, SHUT_RDWR);
    FutexWake(&in_.header->data_seq);
    FutexWake(&out_.header->space_seq);
  }

  std::string PeerName() const override { return peer_; }
  std::string Kind() const override { return "shm"; }
  std::vector<int> HandoffHandles() const override { return {socket_, memfd_}; }

 private:
  // The peer wrote a position that no correct peer writes: the stream is
  // lost, and the connection with it.
  Status Damaged() {
    Shutdown();
    return Status::Corruption("shared-memory ring damaged by " + peer_ + " (a position out of range)");
  }

  // Whether the peer has gone: its end of the Unix socket closed.
  bool PeerGone() {
    if (shut_down_.load()) return true;
    pollfd pfd{socket_, POLLIN, 0};
    if (poll(&pfd, 1, 0) <= 0) return false;
    if (pfd.revents & (POLLHUP | POLLERR)) return true;
    char byte;
    return recv(socket_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }

  // Spins a little (a reply usually comes within microseconds), then sleeps
  // on the futex, waking now and then to notice a peer that died. Returns
  // once the peer's position moved (ReadExact checks it).
  Status WaitForData() {
    RingHeader* h = in_.header;
    auto moved = [&] { return h->tail.load(std::memory_order_acquire) != read_pos_; };
    if (SpinUntil(moved)) return Status::Ok();
    while (true) {
      uint32_t seq = h->data_seq.load(std::memory_order_acquire);
      h->reader_sleeping.store(1, std::memory_order_seq_cst);
      if (moved()) {
        h->reader_sleeping.store(0);
        return Status::Ok();
      }
      FutexWait(&h->data_seq, seq, kPeerCheckMillis);
      h->reader_sleeping.store(0);
      if (moved()) return Status::Ok();
      if (PeerGone()) return Status::IoError("connection closed by " + peer_);
    }
  }

  Status WaitForSpace() {
    RingHeader* h = out_.header;
    auto full = [&] { return write_pos_ - h->head.load(std::memory_order_acquire) == kShmRingBytes; };
    if (SpinUntil([&] { return !full(); })) return Status::Ok();
    while (true) {
      uint32_t seq = h->space_seq.load(std::memory_order_acquire);
      h->writer_sleeping.store(1, std::memory_order_seq_cst);
      if (!full()) {
        h->writer_sleeping.store(0);
        return Status::Ok();
      }
      FutexWait(&h->space_seq, seq, kPeerCheckMillis);
      h->writer_sleeping.store(0);
      if (!full()) return Status::Ok();
      if (PeerGone()) return Status::IoError("write to " + peer_ + " failed: peer gone");
    }
  }

  int socket_;
  int memfd_;
  void* region_;
  std::string peer_;
  Ring out_{}, in_{};
  uint64_t write_pos_ = 0;  // this side's producer position in out_ (writers are serialized)
  uint64_t read_pos_ = 0;   // this side's consumer position in in_ (readers are serialized)
  std::atomic<bool> shut_down_{false};
};

// Maps the region. A region that the other process handed over (`peer's`)
// is checked first: exactly the region's size, and sealed so that it can
// never shrink (a mapped page beyond the end of the file is a SIGBUS).
Status MapRegion(int memfd, bool peers, void** region) {
  struct stat st;
  if (fstat(memfd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) != kShmRegionBytes) {
    return Status::InvalidValue("shared memory region of the wrong kind or size");
  }
  if (peers) {
    int seals = fcntl(memfd, F_GET_SEALS);
    if (seals < 0 || (seals & kShmRequiredSeals) != kShmRequiredSeals) {
      return Status::InvalidValue("shared memory region not sealed against resizing (seals " +
                                  std::to_string(seals) + ")");
    }
    // Sealed now, so the size cannot have changed since fstat; look again
    // all the same, in case it did in between.
    if (fstat(memfd, &st) != 0 || static_cast<size_t>(st.st_size) != kShmRegionBytes) {
      return Status::InvalidValue("shared memory region of the wrong size");
    }
  }
  void* p = mmap(nullptr, kShmRegionBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (p == MAP_FAILED) return Status::IoError(std::string("mmap: ") + std::strerror(errno));
  *region = p;
  return Status::Ok();
}

Status UnixAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof addr->sun_path) return Status::InvalidValue("socket path too long: " + path);
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return Status::Ok();
}

// Receives a client's set-up message from `s` without waiting: *memfd is
// set when it came, stays -1 when nothing is there yet.
Status ReceiveSetup(int s, int* memfd) {
  *memfd = -1;
  uint32_t magic = 0;
  ReceivedMessage r = ReceiveWithFds(s, &magic, sizeof magic, MSG_DONTWAIT);
  if (r.bytes < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Status::Ok();
  if (r.bytes != static_cast<ssize_t>(sizeof magic) || r.fds.size() != 1 || magic != kShmSetupMagic || r.truncated) {
    r.CloseFds();
    return Status::Corruption("a local client sent no valid shared-memory set-up");
  }
  *memfd = r.fds[0];
  return Status::Ok();
}

// Accepts local clients. A client's set-up message (its memfd) is due at
// once, but one that sends nothing must not hold up the others: accepted
// sockets wait in `pending_` (for kSetupTimeout at most) while the listener
// goes on accepting and polls them all.
class ShmListener final : public Listener {
 public:
  ShmListener(int fd, std::string path) : fd_(fd), wake_(eventfd(0, EFD_CLOEXEC)), path_(std::move(path)) {}
  ~ShmListener() override {
    Close();
    for (const auto& p : pending_) close(p.fd);
    if (wake_ >= 0) close(wake_);
  }

  Status Accept(std::unique_ptr<Connection>* connection) override {
    using Clock = std::chrono::steady_clock;
    while (true) {
      if (closed_.load()) return Status::IoError("the shared-memory listener is closed");
      const auto now = Clock::now();
      while (!pending_.empty() && pending_.front().deadline <= now) {
        close(pending_.front().fd);
        pending_.pop_front();
      }
      std::vector<pollfd> fds{{fd_, POLLIN, 0}, {wake_, POLLIN, 0}};
      for (const auto& p : pending_) fds.push_back({p.fd, POLLIN, 0});
      int timeout = -1;
      if (!pending_.empty()) {
        timeout = static_cast<int>(
            std::chrono::ceil<std::chrono::milliseconds>(pending_.front().deadline - now).count());
      }
      if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
        return Status::IoError(std::string("poll: ") + std::strerror(errno));
      }
      if (closed_.load()) return Status::IoError("the shared-memory listener is closed");
      // Pending clients first: whoever sent its set-up is served.
      for (size_t i = 2; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        int s = fds[i].fd;
        int memfd = -1;
        Status st = ReceiveSetup(s, &memfd);
        if (st.ok() && memfd < 0) continue;  // spurious: nothing yet
        pending_.erase(std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.fd == s; }));
        if (!st.ok()) {
          close(s);
          return st;
        }
        return ShmAdopt(s, memfd, connection);
      }
      if (fds[0].revents) {
        int s = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (s < 0) {
          if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
          return Status::IoError(std::string("accept: ") + std::strerror(errno));
        }
        if (pending_.size() >= kMaxPendingSetups) {
          close(pending_.front().fd);
          pending_.pop_front();
        }
        pending_.push_back(Pending{s, Clock::now() + kSetupTimeout});
      }
    }
  }

  uint16_t Port() const override { return 0; }

  void Close() override {
    if (closed_.exchange(true)) return;
    uint64_t one = 1;
    if (wake_ >= 0 && write(wake_, &one, sizeof one) < 0) {
      // Nothing more to do: shutdown below wakes a poller too.
    }
    ::shutdown(fd_, SHUT_RDWR);
    close(fd_);
    unlink(path_.c_str());
  }

 private:
  struct Pending {
    int fd;
    std::chrono::steady_clock::time_point deadline;
  };

  int fd_;
  int wake_;  // an eventfd that Close() signals
  std::string path_;
  std::atomic<bool> closed_{false};
  std::deque<Pending> pending_;  // only the accepting thread touches it
};

}  // namespace

Status ShmConnect(const std::string& socket_path, std::unique_ptr<Connection>* connection, bool* absent) {
  if (absent) *absent = false;
  sockaddr_un addr;
  RCUDA_RETURN_IF_ERROR(UnixAddress(socket_path, &addr));
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (absent) *absent = errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR;
    Status st = Status::Unavailable("cannot connect to " + socket_path + ": " + std::strerror(errno));
    close(s);
    return st;
  }
  // Nothing (the lease token, data) goes to a listener this user does not
  // trust: whoever created the socket may not be rcuda-server.
  uid_t uid = 0;
  pid_t pid = 0;
  Status st = PeerCredentials(s, &uid, &pid)
                  ? CheckServerUid(uid, geteuid(), ExpectedServerUid())
                  : Status::Unavailable("cannot tell who listens on " + socket_path);
  if (!st.ok()) {
    close(s);
    return Status(st.code(), socket_path + ": " + st.message());
  }
  int memfd = memfd_create("rcuda-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (memfd < 0 || ftruncate(memfd, kShmRegionBytes) != 0 || fcntl(memfd, F_ADD_SEALS, kShmRequiredSeals) != 0) {
    st = Status::IoError(std::string("memfd: ") + std::strerror(errno));
    if (memfd >= 0) close(memfd);
    close(s);
    return st;
  }
  void* region = nullptr;
  st = MapRegion(memfd, /*peers=*/false, &region);
  if (!st.ok()) {
    close(memfd);
    close(s);
    return st;
  }
  // ftruncate zero-fills: both rings start empty.
  uint32_t magic = kShmSetupMagic;
  const int fds[] = {memfd};
  if (SendWithFds(s, &magic, sizeof magic, fds) != static_cast<ssize_t>(sizeof magic)) {
    st = Status::IoError(std::string("sending the shared-memory set-up failed: ") + std::strerror(errno));
    munmap(region, kShmRegionBytes);
    close(memfd);
    close(s);
    return st;
  }
  *connection = std::make_unique<ShmConnection>(s, memfd, region, /*client=*/true,
                                                "shm " + socket_path + " (server pid " + std::to_string(pid) + ")");
  return Status::Ok();
}

Status ShmListen(const std::string& socket_path, std::unique_ptr<Listener>* listener) {
  sockaddr_un addr;
  RCUDA_RETURN_IF_ERROR(UnixAddress(socket_path, &addr));
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  unlink(socket_path.c_str());  // a stale socket of an earlier server
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(s, SOMAXCONN) != 0) {
    Status st = Status::Unavailable("cannot listen on " + socket_path + ": " + std::strerror(errno));
    close(s);
    return st;
  }
  chmod(socket_path.c_str(), 0666);  // like the TCP port: any local user may connect
  *listener = std::make_unique<ShmListener>(s, socket_path);
  return Status::Ok();
}

Status ShmAdopt(int socket_fd, int memfd, std::unique_ptr<Connection>* connection) {
  // The server side: the client's credentials name the session in logs.
  uid_t uid = 0;
  pid_t pid = 0;
  if (!PeerCredentials(socket_fd, &uid, &pid)) {
    close(memfd);
    close(socket_fd);
    return Status::InvalidValue("a local client without credentials");
  }
  const std::string peer = "shm uid " + std::to_string(uid) + " pid " + std::to_string(pid);
  void* region = nullptr;
  Status st = MapRegion(memfd, /*peers=*/true, &region);
  if (!st.ok()) {
    close(memfd);
    close(socket_fd);
    return Status(st.code(), peer + ": " + st.message());
  }
  // The accepted socket was non-blocking for the set-up; the connection
  // polls it, and a blocking one is what the worker expects.
  int flags = fcntl(socket_fd, F_GETFL);
  if (flags >= 0) fcntl(socket_fd, F_SETFL, flags & ~O_NONBLOCK);
  *connection = std::make_unique<ShmConnection>(socket_fd, memfd, region, /*client=*/false, peer);
  return Status::Ok();
}

}  // namespace rcuda
