// The scheduler's state machine: nodes and their GPUs as monitors report them,
// leases (memory partitions of GPUs), and the queue of blocking requests. No
// I/O and no clock of its own: every call gets the time, so tests drive it
// deterministically; ssgmd (ssgmd_service.h) feeds it from the network and
// journals what a StateObserver hears.
//
// Rules (docs/scheduler.md has the long form):
// - A GPU's capacity is its total memory minus the configured reserve; leases
//   on it never add up to more.
// - Only live nodes get new leases: reported within node_timeout and whose
//   server is not reported down.
// - Blocking requests are served strictly in arrival order. A request that
//   fits now still waits behind an earlier one that does not, and a
//   non-blocking request is answered busy while anyone waits: nobody overtakes.
// - A request no known GPU could ever hold (memory beyond every GPU's
//   capacity, or more GPUs than can hold it) is refused at once.
// - An idempotency key maps to its live lease (or its waiting request); a
//   repeat gets the same lease, or takes over the wait, only when it carries
//   the same secret (its hash): knowing a key is not enough to take a lease.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "scheduler/cluster_types.h"
#include "scheduler/placement_policy.h"

namespace rcuda::sched {

struct SchedulerOptions {
  Policy policy = Policy::kBestFit;
  uint64_t gpu_reserve_bytes = 0;  // per GPU, kept out of every partition
  int64_t node_timeout_ms = 5000;  // a node silent this long gets no new leases
  size_t max_queue = 100000;       // waiting requests beyond this are answered busy
  // Makes lease ids; random by default. Tests give a deterministic one.
  std::function<std::string()> new_lease_id;
};

struct LeaseRequest {
  int gpus = 1;
  uint64_t mem_bytes = 0;  // per GPU
  int64_t ttl_ms = 0;
  int64_t wait_ms = 0;     // 0: answer at once (non-blocking)
  std::string key;         // idempotency key, optional
  std::string secret_sha256;  // the holder's secret, hashed (lease_secret.h); a repeat must match it
  uint64_t requester = 0;  // opaque; names the waiter in later Notices
};

enum class Outcome { kGranted, kQueued, kBusy, kRefused };

struct Decision {
  Outcome outcome = Outcome::kBusy;
  Lease lease;            // kGranted
  std::string message;    // kBusy, kRefused: why
  bool repeated = false;  // kGranted: an idempotent repeat of an existing lease
};

// An answer for a request that waited: served, timed out, refused, or
// superseded by a repeat with the same key (answered busy).
struct Notice {
  uint64_t requester = 0;
  Decision decision;
  int64_t queued_ms = 0;  // how long it waited in the queue
};

enum class LeaseEnd { kReleased, kExpired };

// Told about every change to the leases, so it can be journaled before any
// answer that depends on it leaves the daemon.
class StateObserver {
 public:
  virtual ~StateObserver() = default;
  virtual void LeaseGranted(const Lease& lease) = 0;
  virtual void LeaseRenewed(const Lease& lease) = 0;
  virtual void LeaseEnded(const Lease& lease, LeaseEnd why) = 0;
};

struct GpuState {
  GpuReport report;         // the latest report
  bool present = false;     // in the node's latest report
  uint64_t capacity_bytes = 0;
  uint64_t allocated_bytes = 0;
  int leases = 0;
  int sessions = 0;         // sessions the node's server runs on it
};

struct NodeState {
  std::string name;
  NodeReport report;        // the latest report, without its GPU list (see gpus)
  bool reported = false;    // false for a node known only from journaled leases
  int64_t last_report_ms = 0;
  std::map<int, GpuState> gpus;
};

struct SchedulerCounters {
  uint64_t granted = 0;          // new leases
  uint64_t granted_after_wait = 0;
  uint64_t repeated = 0;         // idempotent repeats answered with an existing lease
  uint64_t busy = 0;
  uint64_t refused = 0;
  uint64_t timed_out = 0;        // waiters whose deadline passed
  uint64_t released = 0;
  uint64_t expired = 0;
  uint64_t renewed = 0;
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options, StateObserver* observer = nullptr);

  Decision Submit(const LeaseRequest& request, int64_t now_ms);
  // Idempotent: releasing an unknown or ended lease is fine (*existed = false).
  void Release(const std::string& lease_id, int64_t now_ms, bool* existed);
  // Extends the lease to now + ttl_ms (ttl_ms 0: its own time to live).
  Status Renew(const std::string& lease_id, int64_t ttl_ms, int64_t now_ms, Lease* renewed);
  void UpdateNode(const NodeReport& report, int64_t now_ms);
  // Reclaims expired leases, times out waiters, serves the queue.
  void Tick(int64_t now_ms);
  // The waiter's connection is gone: forget its request.
  void CancelWaiter(uint64_t requester, int64_t now_ms);

  // Answers produced for waiting requests since the last call.
  std::vector<Notice> TakeNotices();
  // When Tick next has work (a lease expiry or a waiter's deadline); INT64_MAX if never.
  int64_t NextWakeMs() const;

  // Journal replay: rebuild leases without telling the observer.
  void RestoreLease(const Lease& lease);
  void RestoreRenew(const std::string& lease_id, int64_t expires_ms, int64_t ttl_ms);
  void RestoreEnd(const std::string& lease_id);

  // Allocation bookkeeping agrees with the leases, and no present GPU holds
  // more than its capacity.
  Status CheckInvariants() const;

  bool NodeIsLive(const NodeState& node, int64_t now_ms) const;
  const std::map<std::string, NodeState, std::less<>>& nodes() const { return nodes_; }
  const std::unordered_map<std::string, Lease>& leases() const { return leases_; }
  size_t queue_length() const { return queue_.size(); }
  const SchedulerCounters& counters() const { return counters_; }
  const SchedulerOptions& options() const { return options_; }

 private:
  struct Waiter {
    LeaseRequest request;
    int64_t enqueued_ms = 0;
    int64_t deadline_ms = 0;
  };
  using WaiterList = std::list<Waiter>;

  // Picks GPUs for the request now; empty when it does not fit.
  std::vector<std::pair<NodeState*, int>> Place(const LeaseRequest& request, int64_t now_ms);
  bool Impossible(const LeaseRequest& request, std::string* why) const;
  Lease CreateLease(const LeaseRequest& request, const std::vector<std::pair<NodeState*, int>>& placement, int64_t now_ms);
  void Allocate(const Lease& lease, int sign);
  void EndLease(const std::string& lease_id, LeaseEnd why);
  // Drops the lease and its allocation; returns false when unknown.
  bool RemoveLease(const std::string& lease_id, Lease* removed);
  void Enqueue(const LeaseRequest& request, int64_t now_ms);
  void RemoveWaiter(WaiterList::iterator it);
  void ServeQueue(int64_t now_ms);
  uint64_t Capacity(const GpuReport& gpu) const;

  SchedulerOptions options_;
  StateObserver* observer_;
  std::map<std::string, NodeState, std::less<>> nodes_;  // ordered: ring order for round robin
  std::unordered_map<std::string, Lease> leases_;
  std::unordered_map<std::string, std::string> lease_by_key_;
  std::set<std::pair<int64_t, std::string>> expiries_;
  WaiterList queue_;
  std::unordered_map<uint64_t, WaiterList::iterator> waiter_by_requester_;
  std::unordered_map<std::string, WaiterList::iterator> waiter_by_key_;
  std::set<std::pair<int64_t, uint64_t>> deadlines_;
  RingCursor ring_cursor_;
  std::vector<Notice> notices_;
  SchedulerCounters counters_;
};

}  // namespace rcuda::sched
