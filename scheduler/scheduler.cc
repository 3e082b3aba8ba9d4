#include "scheduler/scheduler.h"

#include <algorithm>
#include <climits>

#include "protocol/hmac_sha256.h"
#include "scheduler/random_id.h"
#include "scheduler/units.h"

namespace rcuda::sched {

const char* ServerStateName(ServerState state) {
  switch (state) {
    case ServerState::kUp: return "up";
    case ServerState::kDown: return "down";
    case ServerState::kUnknown: break;
  }
  return "unknown";
}

namespace {

Decision Refused(std::string message) {
  Decision d;
  d.outcome = Outcome::kRefused;
  d.message = std::move(message);
  return d;
}

Decision Busy(std::string message) {
  Decision d;
  d.outcome = Outcome::kBusy;
  d.message = std::move(message);
  return d;
}

// A repeat must come from the holder: the same secret, compared in constant time.
bool SameSecret(const std::string& a, const std::string& b) { return ConstantTimeEqual(a, b); }

bool SameShape(const LeaseRequest& request, const Lease& lease) {
  return int(lease.grants.size()) == request.gpus && lease.mem_bytes == request.mem_bytes;
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options, StateObserver* observer)
    : options_(std::move(options)), observer_(observer) {
  if (!options_.new_lease_id) options_.new_lease_id = [] { return RandomHex(8); };
}

uint64_t Scheduler::Capacity(const GpuReport& gpu) const {
  return gpu.total_bytes > options_.gpu_reserve_bytes ? gpu.total_bytes - options_.gpu_reserve_bytes : 0;
}

bool Scheduler::NodeIsLive(const NodeState& node, int64_t now_ms) const {
  return node.reported && now_ms - node.last_report_ms <= options_.node_timeout_ms &&
         node.report.server != ServerState::kDown;
}

std::vector<std::pair<NodeState*, int>> Scheduler::Place(const LeaseRequest& request, int64_t now_ms) {
  std::vector<Candidate> candidates;
  for (auto& [name, node] : nodes_) {
    if (!NodeIsLive(node, now_ms)) continue;
    for (auto& [index, gpu] : node.gpus) {
      if (!gpu.present || gpu.capacity_bytes < gpu.allocated_bytes ||
          gpu.capacity_bytes - gpu.allocated_bytes < request.mem_bytes) {
        continue;
      }
      Candidate c;
      c.node = name;
      c.gpu = index;
      c.free_after_bytes = gpu.capacity_bytes - gpu.allocated_bytes - request.mem_bytes;
      c.load = gpu.leases + gpu.report.utilization_percent / 100.0;
      candidates.push_back(c);
    }
  }
  std::vector<std::pair<NodeState*, int>> placement;
  if (int(candidates.size()) < request.gpus) return placement;
  RankCandidates(options_.policy, ring_cursor_, &candidates);
  for (int i = 0; i < request.gpus; ++i) {
    placement.emplace_back(&nodes_.find(candidates[i].node)->second, candidates[i].gpu);
  }
  return placement;
}

bool Scheduler::Impossible(const LeaseRequest& request, std::string* why) const {
  int known = 0, large_enough = 0;
  uint64_t largest = 0;
  for (const auto& [name, node] : nodes_) {
    if (!node.reported) continue;
    for (const auto& [index, gpu] : node.gpus) {
      if (!gpu.present) continue;
      ++known;
      largest = std::max(largest, gpu.capacity_bytes);
      if (gpu.capacity_bytes >= request.mem_bytes) ++large_enough;
    }
  }
  // Before any node has reported, nothing is known to be impossible.
  if (known == 0 || large_enough >= request.gpus) return false;
  if (large_enough == 0) {
    *why = "no GPU can hold " + FormatBytes(request.mem_bytes) + " (the largest partition possible is " +
           FormatBytes(largest) + ")";
  } else {
    *why = "only " + std::to_string(large_enough) + " GPU(s) can hold " + FormatBytes(request.mem_bytes) + "; " +
           std::to_string(request.gpus) + " requested";
  }
  return true;
}

void Scheduler::Allocate(const Lease& lease, int sign) {
  for (const auto& grant : lease.grants) {
    auto node_it = nodes_.find(grant.node);
    if (node_it == nodes_.end()) {
      // Known only from the journal so far: its monitor has not reported since the restart.
      node_it = nodes_.emplace(grant.node, NodeState{}).first;
      node_it->second.name = grant.node;
    }
    GpuState& gpu = node_it->second.gpus[grant.gpu];
    if (sign > 0) {
      gpu.allocated_bytes += grant.mem_bytes;
      gpu.leases += 1;
    } else {
      gpu.allocated_bytes -= std::min(gpu.allocated_bytes, grant.mem_bytes);
      gpu.leases -= 1;
    }
  }
}

Lease Scheduler::CreateLease(const LeaseRequest& request, const std::vector<std::pair<NodeState*, int>>& placement,
                             int64_t now_ms) {
  Lease lease;
  do {
    lease.id = options_.new_lease_id();
  } while (leases_.count(lease.id));
  lease.key = request.key;
  lease.secret_sha256 = request.secret_sha256;
  lease.mem_bytes = request.mem_bytes;
  lease.ttl_ms = request.ttl_ms;
  lease.created_ms = now_ms;
  lease.expires_ms = now_ms + request.ttl_ms;
  lease.tokens_until_ms = lease.expires_ms;
  for (const auto& [node, index] : placement) {
    Grant grant;
    grant.node = node->name;
    grant.host = node->report.host;
    grant.port = node->report.port;
    grant.gpu = index;
    grant.mem_bytes = request.mem_bytes;
    lease.grants.push_back(std::move(grant));
  }
  ring_cursor_.valid = true;
  ring_cursor_.node = lease.grants.back().node;
  ring_cursor_.gpu = lease.grants.back().gpu;
  Allocate(lease, +1);
  if (!lease.key.empty()) lease_by_key_[lease.key] = lease.id;
  expiries_.emplace(lease.expires_ms, lease.id);
  auto [it, inserted] = leases_.emplace(lease.id, std::move(lease));
  ++counters_.granted;
  if (observer_) observer_->LeaseGranted(it->second);
  return it->second;
}

Decision Scheduler::Submit(const LeaseRequest& request, int64_t now_ms) {
  if (request.gpus < 1 || request.mem_bytes == 0 || request.ttl_ms <= 0 || request.wait_ms < 0) {
    ++counters_.refused;
    return Refused("a request needs at least 1 GPU, some memory and a positive time to live");
  }
  if (!request.key.empty()) {
    if (auto found = lease_by_key_.find(request.key); found != lease_by_key_.end()) {
      const Lease& lease = leases_.at(found->second);
      if (!SameSecret(request.secret_sha256, lease.secret_sha256)) {
        ++counters_.refused;
        return Refused("idempotency key '" + request.key + "' belongs to another holder's lease (a repeat must "
                       "carry the lease's secret)");
      }
      if (!SameShape(request, lease)) {
        ++counters_.refused;
        return Refused("idempotency key '" + request.key + "' belongs to lease " + lease.id +
                       ", which has other GPUs or memory");
      }
      ++counters_.repeated;
      Decision d;
      d.outcome = Outcome::kGranted;
      d.lease = lease;
      d.repeated = true;
      return d;
    }
    if (auto found = waiter_by_key_.find(request.key); found != waiter_by_key_.end()) {
      Waiter& waiter = *found->second;
      if (!SameSecret(request.secret_sha256, waiter.request.secret_sha256)) {
        ++counters_.refused;
        return Refused("idempotency key '" + request.key + "' belongs to another holder's waiting request");
      }
      if (waiter.request.gpus != request.gpus || waiter.request.mem_bytes != request.mem_bytes) {
        ++counters_.refused;
        return Refused("idempotency key '" + request.key + "' belongs to a waiting request for other GPUs or memory");
      }
      if (request.wait_ms == 0) {
        ++counters_.busy;
        return Busy("a request with idempotency key '" + request.key + "' is waiting in the queue");
      }
      // The repeat takes over the wait (its first connection is likely gone):
      // the earlier requester is told, and the place in the queue is kept.
      uint64_t previous = waiter.request.requester;
      if (previous != request.requester) {
        Notice notice;
        notice.requester = previous;
        notice.decision = Busy("superseded by a repeated request with the same idempotency key");
        notice.queued_ms = now_ms - waiter.enqueued_ms;
        notices_.push_back(std::move(notice));
        waiter_by_requester_.erase(previous);
        waiter_by_requester_[request.requester] = found->second;
      }
      deadlines_.erase({waiter.deadline_ms, previous});
      waiter.request.requester = request.requester;
      waiter.request.ttl_ms = request.ttl_ms;
      waiter.deadline_ms = now_ms + request.wait_ms;
      deadlines_.emplace(waiter.deadline_ms, request.requester);
      Decision d;
      d.outcome = Outcome::kQueued;
      return d;
    }
  }
  std::string why;
  if (Impossible(request, &why)) {
    ++counters_.refused;
    return Refused(why);
  }
  if (!queue_.empty()) {
    if (request.wait_ms == 0) {
      ++counters_.busy;
      return Busy(std::to_string(queue_.size()) + " request(s) wait ahead of this one");
    }
    if (queue_.size() >= options_.max_queue) {
      ++counters_.busy;
      return Busy("the queue is full (" + std::to_string(queue_.size()) + " waiting)");
    }
    Enqueue(request, now_ms);
    Decision d;
    d.outcome = Outcome::kQueued;
    return d;
  }
  auto placement = Place(request, now_ms);
  if (!placement.empty()) {
    Decision d;
    d.outcome = Outcome::kGranted;
    d.lease = CreateLease(request, placement, now_ms);
    return d;
  }
  if (request.wait_ms == 0) {
    ++counters_.busy;
    bool any_live = std::any_of(nodes_.begin(), nodes_.end(),
                                [&](const auto& entry) { return NodeIsLive(entry.second, now_ms); });
    return Busy(any_live ? "no live GPU has " + FormatBytes(request.mem_bytes) + " free for " +
                               std::to_string(request.gpus) + " GPU(s) now"
                         : "no live GPU node (no monitor has reported recently, or the servers are down)");
  }
  if (queue_.size() >= options_.max_queue) {
    ++counters_.busy;
    return Busy("the queue is full (" + std::to_string(queue_.size()) + " waiting)");
  }
  Enqueue(request, now_ms);
  Decision d;
  d.outcome = Outcome::kQueued;
  return d;
}

void Scheduler::Enqueue(const LeaseRequest& request, int64_t now_ms) {
  Waiter waiter;
  waiter.request = request;
  waiter.enqueued_ms = now_ms;
  waiter.deadline_ms = now_ms + request.wait_ms;
  auto it = queue_.insert(queue_.end(), std::move(waiter));
  waiter_by_requester_[request.requester] = it;
  if (!request.key.empty()) waiter_by_key_[request.key] = it;
  deadlines_.emplace(it->deadline_ms, request.requester);
}

void Scheduler::RemoveWaiter(WaiterList::iterator it) {
  waiter_by_requester_.erase(it->request.requester);
  if (!it->request.key.empty()) {
    auto by_key = waiter_by_key_.find(it->request.key);
    if (by_key != waiter_by_key_.end() && by_key->second == it) waiter_by_key_.erase(by_key);
  }
  deadlines_.erase({it->deadline_ms, it->request.requester});
  queue_.erase(it);
}

void Scheduler::ServeQueue(int64_t now_ms) {
  while (!queue_.empty()) {
    auto head = queue_.begin();
    Notice notice;
    notice.requester = head->request.requester;
    notice.queued_ms = now_ms - head->enqueued_ms;
    std::string why;
    if (Impossible(head->request, &why)) {
      ++counters_.refused;
      notice.decision = Refused(why);
    } else {
      auto placement = Place(head->request, now_ms);
      if (placement.empty()) break;
      notice.decision.outcome = Outcome::kGranted;
      notice.decision.lease = CreateLease(head->request, placement, now_ms);
      ++counters_.granted_after_wait;
    }
    notices_.push_back(std::move(notice));
    RemoveWaiter(head);
  }
}

bool Scheduler::RemoveLease(const std::string& lease_id, Lease* removed) {
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return false;
  Allocate(it->second, -1);
  if (!it->second.key.empty()) {
    auto by_key = lease_by_key_.find(it->second.key);
    if (by_key != lease_by_key_.end() && by_key->second == lease_id) lease_by_key_.erase(by_key);
  }
  expiries_.erase({it->second.expires_ms, lease_id});
  if (removed) *removed = std::move(it->second);
  leases_.erase(it);
  return true;
}

void Scheduler::EndLease(const std::string& lease_id, LeaseEnd why) {
  Lease lease;
  if (!RemoveLease(lease_id, &lease)) return;
  if (why == LeaseEnd::kReleased) ++counters_.released;
  else ++counters_.expired;
  if (observer_) observer_->LeaseEnded(lease, why);
}

void Scheduler::Release(const std::string& lease_id, int64_t now_ms, bool* existed) {
  *existed = leases_.count(lease_id) > 0;
  if (!*existed) return;
  EndLease(lease_id, LeaseEnd::kReleased);
  ServeQueue(now_ms);
}

Status Scheduler::Renew(const std::string& lease_id, int64_t ttl_ms, int64_t now_ms, Lease* renewed) {
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return Status::InvalidValue("no lease " + lease_id + " (released, expired or never granted)");
  Lease& lease = it->second;
  if (ttl_ms > 0) lease.ttl_ms = ttl_ms;
  expiries_.erase({lease.expires_ms, lease_id});
  lease.expires_ms = now_ms + lease.ttl_ms;
  lease.tokens_until_ms = std::max(lease.tokens_until_ms, lease.expires_ms);
  expiries_.emplace(lease.expires_ms, lease_id);
  ++counters_.renewed;
  if (observer_) observer_->LeaseRenewed(lease);
  *renewed = lease;
  return Status::Ok();
}

void Scheduler::UpdateNode(const NodeReport& report, int64_t now_ms) {
  auto node_it = nodes_.find(report.node);
  if (node_it == nodes_.end()) node_it = nodes_.emplace(report.node, NodeState{}).first;
  NodeState& node = node_it->second;
  node.name = report.node;
  node.report = report;
  node.report.gpus.clear();
  node.reported = true;
  node.last_report_ms = now_ms;
  for (auto& [index, gpu] : node.gpus) {
    gpu.present = false;
    gpu.sessions = 0;
  }
  for (const GpuReport& reported : report.gpus) {
    GpuState& gpu = node.gpus[reported.index];
    gpu.report = reported;
    gpu.present = true;
    gpu.capacity_bytes = Capacity(reported);
  }
  for (const SessionReport& session : report.sessions) {
    auto gpu = node.gpus.find(session.gpu);
    if (gpu != node.gpus.end()) ++gpu->second.sessions;
  }
  // A GPU gone from the report and holding no lease is forgotten.
  std::erase_if(node.gpus, [](const auto& entry) { return !entry.second.present && entry.second.leases == 0; });
  ServeQueue(now_ms);
}

void Scheduler::Tick(int64_t now_ms) {
  while (!expiries_.empty() && expiries_.begin()->first <= now_ms) {
    std::string id = expiries_.begin()->second;
    EndLease(id, LeaseEnd::kExpired);
  }
  while (!deadlines_.empty() && deadlines_.begin()->first <= now_ms) {
    uint64_t requester = deadlines_.begin()->second;
    auto it = waiter_by_requester_.at(requester);
    Notice notice;
    notice.requester = requester;
    notice.queued_ms = now_ms - it->enqueued_ms;
    notice.decision = Busy("waited " + std::to_string(notice.queued_ms) + " ms; no GPU became free in time");
    notices_.push_back(std::move(notice));
    ++counters_.timed_out;
    RemoveWaiter(it);
  }
  ServeQueue(now_ms);
}

void Scheduler::CancelWaiter(uint64_t requester, int64_t now_ms) {
  auto it = waiter_by_requester_.find(requester);
  if (it == waiter_by_requester_.end()) return;
  RemoveWaiter(it->second);
  ServeQueue(now_ms);
}

std::vector<Notice> Scheduler::TakeNotices() {
  std::vector<Notice> out;
  out.swap(notices_);
  return out;
}

int64_t Scheduler::NextWakeMs() const {
  int64_t next = INT64_MAX;
  if (!expiries_.empty()) next = std::min(next, expiries_.begin()->first);
  if (!deadlines_.empty()) next = std::min(next, deadlines_.begin()->first);
  return next;
}

void Scheduler::RestoreLease(const Lease& restored) {
  Lease lease = restored;
  lease.tokens_until_ms = std::max(lease.tokens_until_ms, lease.expires_ms);
  RemoveLease(lease.id, nullptr);
  Allocate(lease, +1);
  if (!lease.key.empty()) lease_by_key_[lease.key] = lease.id;
  expiries_.emplace(lease.expires_ms, lease.id);
  leases_[lease.id] = lease;
}

void Scheduler::RestoreRenew(const std::string& lease_id, int64_t expires_ms, int64_t ttl_ms) {
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return;
  expiries_.erase({it->second.expires_ms, lease_id});
  it->second.expires_ms = expires_ms;
  it->second.tokens_until_ms = std::max(it->second.tokens_until_ms, expires_ms);
  if (ttl_ms > 0) it->second.ttl_ms = ttl_ms;
  expiries_.emplace(expires_ms, lease_id);
}

void Scheduler::RestoreEnd(const std::string& lease_id) { RemoveLease(lease_id, nullptr); }

Status Scheduler::CheckInvariants() const {
  std::map<std::pair<std::string, int>, std::pair<uint64_t, int>> expected;
  for (const auto& [id, lease] : leases_) {
    for (const auto& grant : lease.grants) {
      auto& entry = expected[{grant.node, grant.gpu}];
      entry.first += grant.mem_bytes;
      entry.second += 1;
    }
  }
  for (const auto& [name, node] : nodes_) {
    for (const auto& [index, gpu] : node.gpus) {
      auto found = expected.find({name, index});
      uint64_t bytes = found == expected.end() ? 0 : found->second.first;
      int count = found == expected.end() ? 0 : found->second.second;
      if (gpu.allocated_bytes != bytes || gpu.leases != count) {
        return Status::Corruption("GPU " + name + ":" + std::to_string(index) + " accounts " +
                                  std::to_string(gpu.allocated_bytes) + " bytes in " + std::to_string(gpu.leases) +
                                  " leases; its leases hold " + std::to_string(bytes) + " in " +
                                  std::to_string(count));
      }
      if (gpu.present && gpu.allocated_bytes > gpu.capacity_bytes) {
        return Status::Corruption("GPU " + name + ":" + std::to_string(index) + " has " +
                                  std::to_string(gpu.allocated_bytes) + " bytes granted but a capacity of " +
                                  std::to_string(gpu.capacity_bytes));
      }
      if (found != expected.end()) expected.erase(found);
    }
  }
  if (!expected.empty()) {
    return Status::Corruption("leases name GPU " + expected.begin()->first.first + ":" +
                              std::to_string(expected.begin()->first.second) + ", which the scheduler does not track");
  }
  return Status::Ok();
}

}  // namespace rcuda::sched
