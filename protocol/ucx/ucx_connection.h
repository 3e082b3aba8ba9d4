// One UCX connection: a Connection whose byte stream travels as UCP tagged
// messages between two UCP workers, one per side, after a bootstrap over a
// TCP socket (protocol/ucx/bootstrap.h, README.md of this folder).
//
// The stream as messages. WriteAll gathers the small buffers it is given
// into one message (a frame's header and flatbuffer, small payloads: sent
// inline, UCX's eager protocol) and sends each large buffer as messages of
// its own, straight from the caller's memory, in fragments of at most
// kFragmentBytes (UCX's rendezvous protocol: on RDMA hardware the receiver
// reads the sender's registered buffer, or the sender writes the receiver's;
// over shared memory one process_vm_readv copy). ReadExact probes the next
// message: one that fits what the caller still wants lands straight in the
// caller's buffer; a larger one lands in a read-ahead buffer and is served
// from there. So a large copy crosses without a copy of rcuda's own, and a
// small call is one message each way.
//
// Waiting: each wait polls the worker for a short while (RCUDA_UCX_SPIN_US),
// then sleeps on UCP's event descriptor (ucp_worker_arm) together with the
// bootstrap socket. One thread at a time sleeps there; another waiting
// thread (the session's reader while a wait-pool thread sends a reply)
// waits on a condition variable and is woken when the sleeper's poll ends,
// and a thread that progresses the worker while another sleeps wakes it
// (an eventfd), since it may have completed the sleeper's operation.
//
// Failure: a peer that dies closes the bootstrap socket. The connection then
// drains what already arrived for a short while (another transport may
// carry it behind the socket's end), and breaks: the endpoint is closed, the
// worker destroyed (so UCX forgets every buffer it was given), and every
// later call fails. A clean close sends an end-of-stream message first, so
// the peer reports a closed connection at once.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/transport.h"
#include "protocol/ucx/bootstrap.h"
#include "protocol/ucx/ucp_library.h"

namespace rcuda::ucx {

// The largest message a writer sends (a fragment of a large buffer, or the
// gathered small ones) and so the most a reader buffers.
inline constexpr size_t kFragmentBytes = 4 << 20;
// Buffers smaller than this are gathered (copied) into one message.
inline constexpr size_t kGatherBelow = 16 << 10;
// Fragments of one large buffer in flight at once: enough to keep the link
// busy while the receiver takes them one by one.
inline constexpr size_t kMaxInFlight = 8;

class UcxConnection final : public Connection {
 public:
  enum class Side { kClient, kServer };

  // Takes `socket`, a connected bootstrap socket. Until the upgrade the
  // connection is a plain byte stream over it: the client's Hello goes
  // there, for the daemon to read.
  UcxConnection(int socket, Side side, std::string peer, std::chrono::milliseconds upgrade_timeout);
  ~UcxConnection() override;

  // The serving side (a session worker that adopted the socket): makes a
  // UCP worker, sends its address, takes the client's and connects.
  Status UpgradeAsServer();

  Status WriteAll(std::span<const ConstBuffer> buffers) override;
  Status ReadExact(void* data, size_t size) override;
  void Shutdown() override;
  std::string PeerName() const override { return peer_; }
  std::string Kind() const override { return "ucx"; }
  // The bootstrap socket. Before the upgrade it is all another process needs
  // to take the connection over (the daemon hands it to a worker). After
  // it, the stream stays with this process's UCP worker and the socket is
  // only the liveness signal: a forked child closes its copy through this
  // (so that the parent's end still ends the peer's session), and tests
  // half-close it through NativeHandle().
  std::vector<int> HandoffHandles() const override { return {socket_}; }

  // The UCX transports the endpoint's lanes use ("tcp/lo", "sysv/memory
  // cma/memory", "rc_mlx5/mlx5_0:1"), or "" before the upgrade.
  std::string TransportsInUse();
  // Whether the stream travels through UCX; false before the upgrade and
  // for a client whose server answered on the socket itself (no UCX there).
  bool upgraded() const { return upgraded_.load(); }
  // Client side: whether the server's reading the first bytes as a plain
  // answer (no upgrade) was seen. Valid once the first read returned.
  bool answered_plainly() const { return plain_stream_; }
  // Client side: whether the caller demanded UCX (UcxOptions::required).
  void set_required(bool required) { required_ = required; }
  bool required() const { return required_; }

 private:
  using Clock = std::chrono::steady_clock;

  Status ReadFromSocket(void* data, size_t size);
  Status WriteToSocket(std::span<const ConstBuffer> buffers);  // with mu_ held
  // Client side, on its first read: the server's upgrade message, or (a
  // server that answers without one) the first bytes of a plain stream.
  Status AwaitUpgrade();
  Status CreateWorker(Upgrade* mine);
  Status Connect(const Upgrade& theirs);

  // Everything below runs with mu_ held.
  Status Wait(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done);
  Status SleepOnce(std::unique_lock<std::mutex>& lock);
  unsigned Progress();  // one ucp_worker_progress; wakes the sleeper if it did anything
  void CheckSocket();
  Status Post(const void* data, size_t size, uint64_t tag, std::vector<void*>* pending);
  // Waits until at most `most` of `pending` are still in flight.
  Status Complete(std::unique_lock<std::mutex>& lock, std::vector<void*>* pending, size_t most);
  Status ReceiveMessage(std::unique_lock<std::mutex>& lock, char* out, size_t want, size_t* got_direct);
  void Release(void* request);
  void Break(const std::string& why);
  Status Broken() const;
  void CloseGracefully(std::unique_lock<std::mutex>& lock);
  void TearDown();
  static void OnEndpointError(void* arg, ucp_ep_h ep, ucs_status_t status);

  const int socket_;
  const Side side_;
  const pid_t owner_;  // a forked child's copy never touches UCX
  const std::string peer_;
  const std::chrono::milliseconds upgrade_timeout_;
  const int wake_fd_;  // an eventfd: wakes the thread sleeping in poll()

  std::atomic<bool> upgraded_{false};
  std::atomic<bool> shut_down_{false};
  bool plain_stream_ = false;  // client: the server never upgraded (reader only)
  bool required_ = false;      // client: UcxOptions::required

  mutable std::mutex mu_;
  std::condition_variable cv_;  // a sleeper's poll() ended
  const UcpLibrary* ucp_ = nullptr;
  ucp_worker_h worker_ = nullptr;  // guarded by mu_; null once torn down
  ucp_ep_h ep_ = nullptr;          // guarded by mu_
  int efd_ = -1;                   // the worker's event descriptor
  uint64_t recv_tag_ = 0;          // this side's stream arrives with it (| 1: end of stream)
  uint64_t send_tag_ = 0;          // the peer's
  bool sleeper_ = false;           // guarded by mu_: a thread is in poll()
  bool peer_closed_ = false;       // guarded by mu_: the bootstrap socket ended
  Clock::time_point peer_closed_at_;
  Clock::time_point socket_checked_at_;  // guarded by mu_: a writer's last look
  std::atomic<bool> endpoint_failed_{false};
  std::string broken_;                       // guarded by mu_: why the connection no longer works
  std::vector<std::vector<char>> gathered_;  // guarded by mu_: the writer's gathered messages
  // Guarded by mu_: every request not yet freed, whoever waits for it. The
  // teardown frees them all (UCX requires it before the worker goes); a
  // waiter that finds the connection broken no longer touches its own.
  std::vector<void*> outstanding_;

  // The reader's (readers are serialized by the caller).
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool end_of_stream_ = false;
};

}  // namespace rcuda::ucx
