#include "scheduler/request_auth.h"
#include "scheduler/ssgmd_service.h"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <deque>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/log.h"
#include "protocol/lease_token.h"
#include "scheduler/journal.h"
#include "scheduler/json.h"
#include "scheduler/latency_recorder.h"
#include "scheduler/lease_journal.h"
#include "scheduler/ssgmd_requests.h"
#include "scheduler/units.h"
#include "scheduler/wire.h"

namespace rcuda::sched {

namespace {

using asio::ip::tcp;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What a reply's latency is counted as. "Decision latency" is from the moment
// ssgmd read the request (or, for a request that waited, from the moment
// capacity for it appeared) to the moment its answer was handed to the
// socket, journal commit included.
enum LatencyKind { kRequestNow, kRequestAfterWait, kRelease, kRenew, kReport, kOther, kLatencyKinds };
constexpr const char* kLatencyKindNames[kLatencyKinds] = {"request", "request_after_wait", "release",
                                                          "renew",   "report",             "other"};

// Serving thousands of concurrent clients needs more descriptors than the
// usual soft limit of 1024.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

Json ErrorReply(int code, const std::string& message) {
  Json reply = Json::Object();
  reply.Set("error", int64_t(code));
  reply.Set("message", message);
  return reply;
}

struct Outgoing {
  uint64_t wait_seq = 0;  // journal sequence that must be durable first
  std::string text;
  uint64_t start_ns = 0;
  uint64_t ready_ns = 0;  // when the reply was made (it then waits for its commit)
  int kind = kOther;
};

struct Connection {
  Connection(tcp::socket s, uint64_t i) : socket(std::move(s)), input(kMaxLineBytes), id(i) {}
  tcp::socket socket;
  asio::streambuf input;
  std::deque<Outgoing> out;
  std::string writing_buffer;
  bool writing = false;
  bool closed = false;
  bool close_after_write = false;
  uint64_t id;
  std::unordered_set<uint64_t> waiting;  // requesters of this connection in the queue
  std::string peer;
};

struct PendingRequester {
  std::weak_ptr<Connection> connection;
  Json echo;  // the request's "id", given back in the reply
  uint64_t arrival_ns = 0;
};

}  // namespace

class SsgmdService::Impl {
 public:
  Impl(asio::io_context& io, SsgmdOptions options)
      : io_(io), options_(std::move(options)), acceptor_(io), timer_(io), housekeeping_(io), accept_retry_(io) {}

  Status Start();
  uint16_t Port() const { return acceptor_.is_open() ? acceptor_.local_endpoint().port() : 0; }
  void Stop();
  bool failed() const { return failed_.load(); }

 private:
  void Accept();
  void Read(const std::shared_ptr<Connection>& conn);
  void HandleLine(const std::shared_ptr<Connection>& conn, std::string_view line, uint64_t arrival_ns);
  void HandleRequest(const std::shared_ptr<Connection>& conn, const Json& message, const Json& echo,
                     uint64_t arrival_ns);
  void HandleRelease(const std::shared_ptr<Connection>& conn, const Json& message, const Json& echo,
                     uint64_t arrival_ns);
  void HandleRenew(const std::shared_ptr<Connection>& conn, const Json& message, const Json& echo,
                   uint64_t arrival_ns);
  void HandleReport(const std::shared_ptr<Connection>& conn, const Json& message, const Json& echo,
                    uint64_t arrival_ns);
  Json StatusReply(bool with_leases) const;
  Json StatsJson() const;
  Json LeaseReply(const Lease& lease, bool repeated, uint64_t queued_us) const;

  void Reply(const std::shared_ptr<Connection>& conn, Json reply, const Json& echo, uint64_t start_ns, int kind);
  void TryWrite(const std::shared_ptr<Connection>& conn);
  void CloseConnection(const std::shared_ptr<Connection>& conn);
  void DeliverNotices();
  void OnCommitted(uint64_t seq);
  // Sends the replies a finished commit unblocked, without waiting for the
  // commit's own handler to come up behind everything already queued.
  void PollCommitted() {
    if (journal_) {
      uint64_t committed = journal_->committed();
      if (committed > committed_seq_) {
        notice_delay_.Add(SteadyNs() - std::min(SteadyNs(), journal_->committed_at_ns()));
        OnCommitted(committed);
      }
    }
  }
  void ScheduleFlush();
  void MaybeCompact();
  void ArmTimer();
  void OnTimer();
  void Housekeeping();
  void NoteNodeLiveness(int64_t now_ms);

  asio::io_context& io_;
  SsgmdOptions options_;
  tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  asio::steady_timer housekeeping_;
  asio::steady_timer accept_retry_;
  int64_t timer_armed_for_ms_ = INT64_MAX;

  std::unique_ptr<Journal> journal_;
  std::unique_ptr<JournalObserver> observer_;
  std::unique_ptr<Scheduler> scheduler_;
  uint64_t committed_seq_ = 0;
  bool flush_posted_ = false;
  std::atomic<bool> failed_{false};
  bool stopping_ = false;

  uint64_t next_connection_id_ = 1;
  uint64_t next_requester_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  std::unordered_map<uint64_t, PendingRequester> requesters_;
  std::deque<std::pair<uint64_t, std::weak_ptr<Connection>>> blocked_;  // replies waiting for a commit
  std::set<std::string> live_nodes_;
  LatencyRecorder latency_[kLatencyKinds];
  LatencyRecorder commit_wait_;   // how long replies waited for the journal, from being made to being written
  LatencyRecorder notice_delay_;  // from a commit completing to the event loop acting on it
  uint64_t malformed_ = 0;
  uint64_t unauthenticated_ = 0;
};

Status SsgmdService::Impl::Start() {
  RaiseDescriptorLimit();
  if (!options_.journal_path.empty()) {
    std::vector<std::string> records;
    RCUDA_RETURN_IF_ERROR(Journal::Open(options_.journal_path, &records, &journal_, options_.journal_sync));
    if (!options_.journal_sync) {
      spdlog::warn("journal-sync = none: leases survive ssgmd crashes and restarts, not a crash of this machine");
    }
    observer_ = std::make_unique<JournalObserver>(journal_.get(), [this] { ScheduleFlush(); });
    scheduler_ = std::make_unique<Scheduler>(options_.scheduler, observer_.get());
    // Replay restores leases without telling the observer: nothing is re-journaled.
    ReplayStats stats;
    RCUDA_RETURN_IF_ERROR(ReplayJournal(records, scheduler_.get(), &stats));
    spdlog::info("journal {}: {} records replayed ({} grants, {} renewals, {} ends): {} live leases",
                 options_.journal_path, stats.records, stats.grants, stats.renews, stats.ends,
                 scheduler_->leases().size());
    journal_->SetCommitCallback([this](uint64_t seq, const Status& status) {
      if (!status.ok()) {
        failed_ = true;
        asio::post(io_, [this, status] {
          spdlog::critical("journal failed, cannot keep leases durable: {}", status.ToString());
          Stop();
          io_.stop();
        });
        return;
      }
      asio::post(io_, [this, seq] { OnCommitted(seq); });
    });
    // Start from a compact file: the replayed state only.
    journal_->Rewrite(SnapshotRecords(*scheduler_, WallMs()));
    RCUDA_RETURN_IF_ERROR(journal_->Sync());
    committed_seq_ = journal_->committed();
  } else {
    spdlog::warn("no journal configured: leases will not survive a restart");
    scheduler_ = std::make_unique<Scheduler>(options_.scheduler, nullptr);
  }
  if (options_.lease_key.empty()) {
    spdlog::warn("no lease key (auth-key-file): leases carry no token, servers cannot enforce them");
  }
  if (options_.client_key.empty()) {
    spdlog::warn("no client key (client-key-file): anyone who reaches this port can take leases and report nodes");
  }

  asio::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(options_.listen_address, ec), options_.port);
  if (ec) return Status::InvalidValue("bad listen address '" + options_.listen_address + "': " + ec.message());
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + options_.listen_address + ":" + std::to_string(options_.port) +
                               ": " + ec.message());
  }
  spdlog::info("ssgmd listening on {}:{}, policy {}, {} GPU reserve, node timeout {} ms", options_.listen_address,
               Port(), PolicyName(options_.scheduler.policy), FormatBytes(options_.scheduler.gpu_reserve_bytes),
               options_.scheduler.node_timeout_ms);
  Accept();
  ArmTimer();
  Housekeeping();
  return Status::Ok();
}

void SsgmdService::Impl::Stop() {
  if (stopping_) return;
  stopping_ = true;
  asio::error_code ignored;
  acceptor_.close(ignored);
  timer_.cancel();
  housekeeping_.cancel();
  accept_retry_.cancel();
  for (auto& [id, conn] : connections_) conn->socket.close(ignored);
  connections_.clear();
  if (journal_) {
    Status s = journal_->Sync();
    if (!s.ok()) spdlog::error("journal sync at shutdown: {}", s.ToString());
  }
}

void SsgmdService::Impl::Accept() {
  acceptor_.async_accept([this](const asio::error_code& ec, tcp::socket socket) {
    if (stopping_) return;
    if (ec) {
      // Out of descriptors, most likely: wait a little rather than spin.
      spdlog::warn("accept: {}", ec.message());
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](const asio::error_code& e) {
        if (!e) Accept();
      });
      return;
    }
    PollCommitted();
    asio::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto conn = std::make_shared<Connection>(std::move(socket), next_connection_id_++);
    auto remote = conn->socket.remote_endpoint(ignored);
    conn->peer = remote.address().to_string() + ":" + std::to_string(remote.port());
    connections_[conn->id] = conn;
    Read(conn);
    Accept();
  });
}

void SsgmdService::Impl::Read(const std::shared_ptr<Connection>& conn) {
  asio::async_read_until(conn->socket, conn->input, '\n', [this, conn](const asio::error_code& ec, size_t n) {
    if (conn->closed) return;
    if (ec) {
      if (ec == asio::error::not_found) {
        // The line outgrew kMaxLineBytes: answer, then hang up.
        ++malformed_;
        conn->close_after_write = true;
        Reply(conn, ErrorReply(kSsgmBadRequest, "request line longer than " + std::to_string(kMaxLineBytes) + " bytes"),
              Json(), SteadyNs(), kOther);
        return;
      }
      CloseConnection(conn);
      return;
    }
    uint64_t arrival = SteadyNs();
    PollCommitted();
    auto data = conn->input.data();
    std::string line(asio::buffers_begin(data), asio::buffers_begin(data) + n - 1);
    conn->input.consume(n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) HandleLine(conn, line, arrival);
    if (!conn->closed && !conn->close_after_write) Read(conn);
  });
}

void SsgmdService::Impl::HandleLine(const std::shared_ptr<Connection>& conn, std::string_view line,
                                    uint64_t arrival_ns) {
  Json message;
  Status parsed;
  if (!options_.client_key.empty()) {
    // Verifying parses the request too (the signed object is the request
    // less its "auth" member).
    Status auth = VerifyRequestLine(line, options_.client_key, UnixMillisNow(), &message);
    if (!auth.ok()) {
      ++unauthenticated_;
      spdlog::debug("refused a request from {}: {}", conn->peer, auth.message());
      Reply(conn, ErrorReply(kSsgmBadRequest, auth.message()), Json(), arrival_ns, kOther);
      return;
    }
  } else {
    parsed = ParseJson(line, &message);
  }
  if (!parsed.ok() || !message.is_object()) {
    ++malformed_;
    spdlog::debug("malformed message from {}: {}", conn->peer, parsed.ok() ? "not an object" : parsed.message());
    Reply(conn, ErrorReply(kSsgmBadRequest, "malformed request: " + (parsed.ok() ? "not a JSON object" : parsed.message())),
          Json(), arrival_ns, kOther);
    return;
  }
  Json echo;
  if (const Json* id = message.Find("id")) echo = *id;
  std::string op;
  if (!GetString(message, "op", &op).ok()) {
    ++malformed_;
    Reply(conn, ErrorReply(kSsgmBadRequest, "malformed request: no \"op\""), echo, arrival_ns, kOther);
    return;
  }
  if (op == "request") {
    HandleRequest(conn, message, echo, arrival_ns);
  } else if (op == "release") {
    HandleRelease(conn, message, echo, arrival_ns);
  } else if (op == "renew") {
    HandleRenew(conn, message, echo, arrival_ns);
  } else if (op == "report") {
    HandleReport(conn, message, echo, arrival_ns);
  } else if (op == "status") {
    bool with_leases = true;
    GetOptionalBool(message, "leases", &with_leases);
    Reply(conn, StatusReply(with_leases), echo, arrival_ns, kOther);
  } else if (op == "stats") {
    bool reset = false;
    GetOptionalBool(message, "reset", &reset);
    Json reply = Json::Object();
    reply.Set("error", int64_t(kSsgmOk));
    reply.Set("stats", StatsJson());
    if (reset) {
      for (auto& recorder : latency_) recorder.Reset();
      commit_wait_.Reset();
      notice_delay_.Reset();
    }
    Reply(conn, std::move(reply), echo, arrival_ns, kOther);
  } else {
    ++malformed_;
    Reply(conn, ErrorReply(kSsgmBadRequest, "unknown op '" + op + "'"), echo, arrival_ns, kOther);
  }
}

void SsgmdService::Impl::HandleRequest(const std::shared_ptr<Connection>& conn, const Json& message, const Json& echo,
                                       uint64_t arrival_ns) {
  LeaseRequest request;
  Status s = DecodeLeaseRequest(message, options_, &request);
  if (!s.ok()) {
    ++malformed_;
    Reply(conn, ErrorReply(kSsgmBadRequest, "bad request: " + s.message()), echo, arrival_ns, kRequestNow);
    return;
  }
  request.requester = next_requester_++;
  Decision decision = scheduler_->Submit(request, WallMs());
  switch (decision.outcome) {
    case Outcome::kGranted:
      Reply(conn, LeaseReply(decision.lease, decision.repeated, 0), echo, arrival_ns, kRequestNow);
      break;
    case Outcome::kQueued:
      conn->waiting.insert(request.requester);
      requesters_[request.requester] = PendingRequester{conn, echo, arrival_ns};
      break;
    case Outcome::kBusy:
      Reply(conn, ErrorReply(kSsgmBusy, decision.message), echo, arrival_ns, kRequestNow);
      break;
    case Outcome::kRefused:
      Reply(conn, ErrorReply(kSsgmBadRequest, decision.message), echo, arrival_ns, kRequestNow);
      break;
  }
  DeliverNotices();
  ArmTimer();
}

void SsgmdService::Impl::HandleRelease(const std::shared_ptr<Connection>& conn, const Json& message, const Json& echo,
                                       uint64_t arrival_ns) {
  std::string lease_id;
  if (!GetString(message, "lease", &lease_id).ok() || lease_id.empty()) {
    ++malformed_;
    Reply(conn, ErrorReply(kSsgmBadRequest, "release needs \"lease\""), echo, arrival_ns, kRelease);
    return;
  }
  bool existed = false;
  scheduler_->Release(lease_id, WallMs(), &existed);
  Json reply = Json::Object();
  reply.Set("error", int64_t(kSsgmOk));
  reply.Set("lease", lease_id);
  reply.Set("released", existed);
  Reply(conn, std::move(reply), echo, arrival_ns, kRelease);
  DeliverNotices();
  ArmTimer();
}

void SsgmdService::Impl::HandleRenew(const std::shared_ptr<Connection>& conn, const Json& message, const Json& echo,
                                     uint64_t arrival_ns) {
  std::string lease_id;
  int64_t ttl_ms = 0;
  Status s = DecodeRenew(message, options_, &lease_id, &ttl_ms);
  if (!s.ok()) {
    ++malformed_;
    Reply(conn, ErrorReply(kSsgmBadRequest, "bad renew: " + s.message()), echo, arrival_ns, kRenew);
    return;
  }
  Lease renewed;
  s = scheduler_->Renew(lease_id, ttl_ms, WallMs(), &renewed);
  if (!s.ok()) {
    Reply(conn, ErrorReply(kSsgmBadRequest, s.message()), echo, arrival_ns, kRenew);
  } else {
    Reply(conn, LeaseReply(renewed, false, 0), echo, arrival_ns, kRenew);
  }
  ArmTimer();
}

void SsgmdService::Impl::HandleReport(const std::shared_ptr<Connection>& conn, const Json& message, const Json& echo,
                                      uint64_t arrival_ns) {
  NodeReport report;
  Status s = DecodeNodeReport(message, &report);
  if (!s.ok()) {
    ++malformed_;
    spdlog::warn("bad report from {}: {}", conn->peer, s.message());
    Reply(conn, ErrorReply(kSsgmBadRequest, "bad report: " + s.message()), echo, arrival_ns, kReport);
    return;
  }
  int64_t now = WallMs();
  scheduler_->UpdateNode(report, now);
  NoteNodeLiveness(now);
  Json reply = Json::Object();
  reply.Set("error", int64_t(kSsgmOk));
  Reply(conn, std::move(reply), echo, arrival_ns, kReport);
  DeliverNotices();
  ArmTimer();
}

void SsgmdService::Impl::NoteNodeLiveness(int64_t now_ms) {
  for (const auto& [name, node] : scheduler_->nodes()) {
    bool live = scheduler_->NodeIsLive(node, now_ms);
    bool was_live = live_nodes_.count(name) > 0;
    if (live && !was_live) {
      live_nodes_.insert(name);
      spdlog::info("node {} live: {} GPU(s) at {}@{}, data from {}, server {}", name, node.gpus.size(),
                   node.report.host, node.report.port, node.report.source, ServerStateName(node.report.server));
    } else if (!live && was_live) {
      live_nodes_.erase(name);
      if (node.report.server == ServerState::kDown) {
        spdlog::warn("node {}: its rcuda-server is down; no new leases there", name);
      } else {
        spdlog::warn("node {}: no report for {} ms; no new leases there", name, now_ms - node.last_report_ms);
      }
    }
  }
}

Json SsgmdService::Impl::LeaseReply(const Lease& lease, bool repeated, uint64_t queued_us) const {
  Json reply = Json::Object();
  reply.Set("error", int64_t(kSsgmOk));
  reply.Set("lease", lease.id);
  reply.Set("mem", lease.mem_bytes);
  reply.Set("ttl_ms", lease.ttl_ms);
  reply.Set("expires_ms", lease.expires_ms);
  Json devices = Json::Array();
  for (const auto& grant : lease.grants) devices.Push(EncodeGrant(grant));
  reply.Set("devices", std::move(devices));
  if (!options_.lease_key.empty()) {
    LeaseClaims claims;
    claims.lease_id = lease.id;
    claims.expires_unix = (lease.expires_ms + 999) / 1000;
    for (const auto& grant : lease.grants) claims.grants.push_back({grant.node, grant.port, grant.gpu, grant.mem_bytes});
    reply.Set("token", SignLeaseToken(claims, options_.lease_key));
  }
  if (repeated) reply.Set("repeated", true);
  reply.Set("queued_us", queued_us);
  return reply;
}

void SsgmdService::Impl::Reply(const std::shared_ptr<Connection>& conn, Json reply, const Json& echo,
                               uint64_t start_ns, int kind) {
  if (conn->closed) return;
  if (!echo.is_null()) reply.Set("id", echo);
  Outgoing out;
  out.wait_seq = journal_ ? journal_->appended() : 0;
  out.text = reply.Dump();
  out.text += '\n';
  out.start_ns = start_ns;
  out.ready_ns = SteadyNs();
  out.kind = kind;
  conn->out.push_back(std::move(out));
  if (conn->out.back().wait_seq > committed_seq_) {
    blocked_.emplace_back(conn->out.back().wait_seq, conn);
  } else {
    TryWrite(conn);
  }
}

void SsgmdService::Impl::TryWrite(const std::shared_ptr<Connection>& conn) {
  if (conn->writing || conn->closed) return;
  conn->writing_buffer.clear();
  uint64_t now = SteadyNs();
  while (!conn->out.empty() && conn->out.front().wait_seq <= committed_seq_) {
    Outgoing& out = conn->out.front();
    conn->writing_buffer += out.text;
    latency_[out.kind].Add(now - out.start_ns);
    if (out.wait_seq > 0) commit_wait_.Add(now - out.ready_ns);
    conn->out.pop_front();
  }
  if (conn->writing_buffer.empty()) {
    if (conn->close_after_write && conn->out.empty()) CloseConnection(conn);
    return;
  }
  conn->writing = true;
  asio::async_write(conn->socket, asio::buffer(conn->writing_buffer),
                    [this, conn](const asio::error_code& ec, size_t) {
                      conn->writing = false;
                      if (ec) {
                        CloseConnection(conn);
                        return;
                      }
                      TryWrite(conn);
                    });
}

void SsgmdService::Impl::CloseConnection(const std::shared_ptr<Connection>& conn) {
  if (conn->closed) return;
  conn->closed = true;
  asio::error_code ignored;
  conn->socket.close(ignored);
  connections_.erase(conn->id);
  if (!conn->waiting.empty()) {
    int64_t now = WallMs();
    for (uint64_t requester : conn->waiting) {
      requesters_.erase(requester);
      scheduler_->CancelWaiter(requester, now);
    }
    conn->waiting.clear();
    DeliverNotices();
    ArmTimer();
  }
}

void SsgmdService::Impl::DeliverNotices() {
  std::vector<Notice> notices = scheduler_->TakeNotices();
  if (notices.empty()) return;
  uint64_t now = SteadyNs();
  for (Notice& notice : notices) {
    auto found = requesters_.find(notice.requester);
    if (found == requesters_.end()) continue;
    PendingRequester pending = std::move(found->second);
    requesters_.erase(found);
    auto conn = pending.connection.lock();
    if (!conn) {
      if (notice.decision.outcome == Outcome::kGranted) {
        spdlog::debug("lease {} granted to a requester that left; reclaimed at its time to live",
                      notice.decision.lease.id);
      }
      continue;
    }
    conn->waiting.erase(notice.requester);
    uint64_t queued_us = (now - pending.arrival_ns) / 1000;
    Json reply;
    switch (notice.decision.outcome) {
      case Outcome::kGranted:
        reply = LeaseReply(notice.decision.lease, notice.decision.repeated, queued_us);
        break;
      case Outcome::kRefused:
        reply = ErrorReply(kSsgmBadRequest, notice.decision.message);
        reply.Set("queued_us", queued_us);
        break;
      default:
        reply = ErrorReply(kSsgmBusy, notice.decision.message);
        reply.Set("queued_us", queued_us);
        break;
    }
    Reply(conn, std::move(reply), pending.echo, now, kRequestAfterWait);
  }
}

void SsgmdService::Impl::ScheduleFlush() {
  // Group commit. An idle writer gets the record at once; while it syncs,
  // records accumulate and go as one batch the moment that sync ends
  // (OnCommitted), so a batch holds what arrived during one sync. The posted
  // flush is the backstop: it runs behind every handler already queued, i.e.
  // at the end of this event-loop turn at the latest.
  if (journal_->WriterIdle()) {
    journal_->Flush();
    MaybeCompact();
    PollCommitted();  // without fdatasync the records are committed already
    return;
  }
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [this] {
    flush_posted_ = false;
    if (journal_ && journal_->HasUnflushed()) {
      journal_->Flush();
      MaybeCompact();
      PollCommitted();
    }
  });
}

void SsgmdService::Impl::MaybeCompact() {
  uint64_t live = scheduler_->leases().size();
  if (journal_->records_in_file() > std::max(options_.compact_min_records, options_.compact_live_factor * live)) {
    journal_->Rewrite(SnapshotRecords(*scheduler_, WallMs()));
  }
}

void SsgmdService::Impl::OnCommitted(uint64_t seq) {
  if (journal_->HasUnflushed() && journal_->WriterIdle()) {
    journal_->Flush();
    MaybeCompact();
  }
  // Without fdatasync the flush above committed at once.
  committed_seq_ = std::max({committed_seq_, seq, journal_->committed()});
  while (!blocked_.empty() && blocked_.front().first <= committed_seq_) {
    if (auto conn = blocked_.front().second.lock()) TryWrite(conn);
    blocked_.pop_front();
  }
}

void SsgmdService::Impl::ArmTimer() {
  if (stopping_) return;
  int64_t wake = scheduler_->NextWakeMs();
  if (wake >= timer_armed_for_ms_) return;
  timer_armed_for_ms_ = wake;
  if (wake == INT64_MAX) return;
  int64_t delay = std::max<int64_t>(0, wake - WallMs());
  timer_.expires_after(std::chrono::milliseconds(delay));
  timer_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;  // re-armed earlier, or stopping
    OnTimer();
  });
}

void SsgmdService::Impl::OnTimer() {
  timer_armed_for_ms_ = INT64_MAX;
  scheduler_->Tick(WallMs());
  DeliverNotices();
  ArmTimer();
}

void SsgmdService::Impl::Housekeeping() {
  // Once a second: notice nodes that fell silent (Tick does not need to,
  // placement checks liveness itself), and catch a missed wake-up.
  if (stopping_) return;
  int64_t now = WallMs();
  NoteNodeLiveness(now);
  if (scheduler_->NextWakeMs() <= now) OnTimer();
  housekeeping_.expires_after(std::chrono::seconds(1));
  housekeeping_.async_wait([this](const asio::error_code& ec) {
    if (!ec) Housekeeping();
  });
}

Json SsgmdService::Impl::StatsJson() const {
  Json stats = Json::Object();
  for (int kind = 0; kind < kLatencyKinds; ++kind) {
    const LatencyRecorder& recorder = latency_[kind];
    Json entry = Json::Object();
    entry.Set("count", recorder.count());
    entry.Set("p50_us", recorder.Percentile(50) / 1000);
    entry.Set("p99_us", recorder.Percentile(99) / 1000);
    entry.Set("max_us", recorder.max() / 1000);
    stats.Set(std::string(kLatencyKindNames[kind]) + "_latency", std::move(entry));
  }
  const SchedulerCounters& c = scheduler_->counters();
  Json counters = Json::Object();
  counters.Set("granted", c.granted);
  counters.Set("granted_after_wait", c.granted_after_wait);
  counters.Set("repeated", c.repeated);
  counters.Set("busy", c.busy);
  counters.Set("refused", c.refused);
  counters.Set("timed_out", c.timed_out);
  counters.Set("released", c.released);
  counters.Set("expired", c.expired);
  counters.Set("renewed", c.renewed);
  counters.Set("malformed", malformed_);
  counters.Set("unauthenticated", unauthenticated_);
  stats.Set("counters", std::move(counters));
  Json journal = Json::Object();
  journal.Set("enabled", journal_ != nullptr);
  if (journal_) {
    Journal::Stats js = journal_->stats();
    journal.Set("path", journal_->path());
    journal.Set("batches", js.batches);
    journal.Set("records", js.records);
    journal.Set("rewrites", js.rewrites);
    journal.Set("avg_sync_us", js.batches ? js.sync_ns_total / js.batches / 1000 : 0);
    journal.Set("max_sync_us", js.sync_ns_max / 1000);
    journal.Set("p50_sync_us", js.sync_ns_p50 / 1000);
    journal.Set("p99_sync_us", js.sync_ns_p99 / 1000);
    journal.Set("writer_pickup_p99_us", js.pickup_ns_p99 / 1000);
    journal.Set("commit_noticed_p99_us", notice_delay_.Percentile(99) / 1000);
    journal.Set("reply_wait_p50_us", commit_wait_.Percentile(50) / 1000);
    journal.Set("reply_wait_p99_us", commit_wait_.Percentile(99) / 1000);
  }
  stats.Set("journal", std::move(journal));
  stats.Set("connections", uint64_t(connections_.size()));
  return stats;
}

Json SsgmdService::Impl::StatusReply(bool with_leases) const {
  int64_t now = WallMs();
  Json reply = Json::Object();
  reply.Set("error", int64_t(kSsgmOk));
  reply.Set("policy", PolicyName(options_.scheduler.policy));
  reply.Set("now_ms", now);
  reply.Set("tokens", !options_.lease_key.empty());
  Json nodes = Json::Array();
  for (const auto& [name, node] : scheduler_->nodes()) {
    Json n = Json::Object();
    n.Set("node", name);
    n.Set("host", node.report.host);
    n.Set("port", int64_t(node.report.port));
    n.Set("source", node.report.source);
    n.Set("server", ServerStateName(node.report.server));
    n.Set("live", scheduler_->NodeIsLive(node, now));
    n.Set("reported", node.reported);
    if (node.reported) n.Set("last_report_ms_ago", now - node.last_report_ms);
    Json gpus = Json::Array();
    for (const auto& [index, gpu] : node.gpus) {
      Json g = Json::Object();
      g.Set("index", int64_t(index));
      g.Set("name", gpu.report.name);
      g.Set("present", gpu.present);
      g.Set("total", gpu.report.total_bytes);
      g.Set("capacity", gpu.capacity_bytes);
      g.Set("allocated", gpu.allocated_bytes);
      g.Set("free_reported", gpu.report.free_bytes);
      g.Set("util", int64_t(gpu.report.utilization_percent));
      g.Set("leases", int64_t(gpu.leases));
      g.Set("sessions", int64_t(gpu.sessions));
      gpus.Push(std::move(g));
    }
    n.Set("gpus", std::move(gpus));
    nodes.Push(std::move(n));
  }
  reply.Set("nodes", std::move(nodes));
  reply.Set("lease_count", uint64_t(scheduler_->leases().size()));
  if (with_leases) {
    Json leases = Json::Array();
    for (const auto& [id, lease] : scheduler_->leases()) leases.Push(EncodeLease(lease));
    reply.Set("leases", std::move(leases));
  }
  reply.Set("queue", uint64_t(scheduler_->queue_length()));
  Status invariants = scheduler_->CheckInvariants();
  reply.Set("invariants", invariants.ok() ? std::string("ok") : invariants.message());
  reply.Set("stats", StatsJson());
  return reply;
}

SsgmdService::SsgmdService(asio::io_context& io, SsgmdOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}
SsgmdService::~SsgmdService() = default;
Status SsgmdService::Start() { return impl_->Start(); }
uint16_t SsgmdService::Port() const { return impl_->Port(); }
void SsgmdService::Stop() { impl_->Stop(); }
bool SsgmdService::failed() const { return impl_->failed(); }

}  // namespace rcuda::sched
