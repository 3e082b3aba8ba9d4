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
#include "scheduler/lease_secret.h"
#include "scheduler/random_id.h"
#include "scheduler/request_parser.h"
#include "scheduler/revocation_list.h"
#include "scheduler/ssgmd_status.h"
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

// Answers made for one connection and not yet written; beyond this, ssgmd
// reads no more of its requests until they are.
constexpr size_t kMaxPendingReplies = 64;

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
  bool read_paused = false;  // kMaxPendingReplies made and not yet written: read no more until they leave
  uint64_t id;
  std::unordered_set<uint64_t> waiting;  // requesters of this connection in the queue
  std::string peer;
};

struct PendingRequester {
  std::weak_ptr<Connection> connection;
  Json echo;  // the request's "id", given back in the reply
  uint64_t arrival_ns = 0;
  std::string made_secret;  // a secret ssgmd made for this request (it had none): sent with the grant
};

}  // namespace

class SsgmdService::Impl {
 public:
  Impl(asio::io_context& io, SsgmdOptions options)
      : io_(io),
        options_(std::move(options)),
        acceptor_(io),
        timer_(io),
        housekeeping_(io),
        accept_retry_(io),
        revocations_(RandomHex(8)) {
    keys_.client = options_.client_key;
    keys_.node = options_.node_key;
    keys_.operator_key = options_.operator_key;
    limits_.default_ttl_ms = options_.default_ttl_ms;
    limits_.max_ttl_ms = options_.max_ttl_ms;
    limits_.max_wait_ms = options_.max_wait_ms;
    limits_.max_gpus_per_request = options_.max_gpus_per_request;
  }

  Status Start();
  uint16_t Port() const { return acceptor_.is_open() ? acceptor_.local_endpoint().port() : 0; }
  void Stop();
  bool failed() const { return failed_.load(); }

 private:
  void Accept();
  void Read(const std::shared_ptr<Connection>& conn);
  void HandleLine(const std::shared_ptr<Connection>& conn, std::string_view line, uint64_t arrival_ns);
  void HandleRequest(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed, uint64_t arrival_ns);
  void HandleRelease(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed, uint64_t arrival_ns);
  void HandleRenew(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed, uint64_t arrival_ns);
  void HandleReport(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed, uint64_t arrival_ns);
  void HandleStats(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed, uint64_t arrival_ns);
  // Whether the sender may renew or release `lease`: its secret, or the operator key.
  bool MayActOn(const Lease& lease, const ParsedRequest& parsed) const;
  Json RevocationsFor(const ParsedRequest& parsed);
  Json StatsJson() const;
  Json LeaseReply(const Lease& lease, bool repeated, uint64_t queued_us, const std::string& made_secret = "") const;

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
  std::unique_ptr<RevokingObserver> revoking_;  // before the journal: ended leases' tokens are revoked
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
  RequestKeys keys_;
  RequestLimits limits_;
  RevocationList revocations_;
  LatencyRecorder latency_[kLatencyKinds];
  LatencyRecorder commit_wait_;   // how long replies waited for the journal, from being made to being written
  LatencyRecorder notice_delay_;  // from a commit completing to the event loop acting on it
  uint64_t malformed_ = 0;
  uint64_t unauthenticated_ = 0;
  uint64_t forbidden_ = 0;
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
    revoking_ = std::make_unique<RevokingObserver>(&revocations_, observer_.get(), WallMs);
    scheduler_ = std::make_unique<Scheduler>(options_.scheduler, revoking_.get());
    // Replay restores leases without telling the observer: nothing is re-journaled.
    ReplayStats stats;
    RCUDA_RETURN_IF_ERROR(ReplayJournal(records, scheduler_.get(), &revocations_, &stats));
    revocations_.Prune(WallMs());
    spdlog::info("journal {}: {} records replayed ({} grants, {} renewals, {} ends): {} live leases, {} revoked "
                 "leases with live tokens",
                 options_.journal_path, stats.records, stats.grants, stats.renews, stats.ends,
                 scheduler_->leases().size(), revocations_.size());
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
    journal_->Rewrite(SnapshotRecords(*scheduler_, &revocations_, WallMs()));
    RCUDA_RETURN_IF_ERROR(journal_->Sync());
    committed_seq_ = journal_->committed();
  } else {
    spdlog::warn("no journal configured: leases will not survive a restart");
    revoking_ = std::make_unique<RevokingObserver>(&revocations_, nullptr, WallMs);
    scheduler_ = std::make_unique<Scheduler>(options_.scheduler, revoking_.get());
  }
  if (options_.lease_key.empty()) {
    spdlog::warn("no lease key (auth-key-file): leases carry no token, servers cannot enforce them");
  }
  if (options_.client_key.empty()) {
    spdlog::warn("no client key (client-key-file): anyone who reaches this port can take leases and report nodes");
  }
  if (options_.node_key.empty()) {
    spdlog::warn("no node key (node-key-file): any client may report a node, and so advertise a host for it");
  }
  if (options_.operator_key.empty()) spdlog::info("no operator key (operator-key-file): status shows no lease ids");

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
    if (conn->closed || conn->close_after_write) return;
    // A peer that sends without reading its answers would make ssgmd hold
    // them all: stop reading it until they are written (TryWrite resumes).
    if (conn->out.size() >= kMaxPendingReplies) conn->read_paused = true;
    else Read(conn);
  });
}

void SsgmdService::Impl::HandleLine(const std::shared_ptr<Connection>& conn, std::string_view line,
                                    uint64_t arrival_ns) {
  ParsedRequest parsed;
  Status s = ParseRequestLine(line, keys_, limits_, WallMs(), &parsed);
  if (!s.ok()) {
    switch (parsed.failure) {
      case RequestFailure::kUnauthenticated: ++unauthenticated_; break;
      case RequestFailure::kForbidden: ++forbidden_; break;
      default: ++malformed_; break;
    }
    // A refused report is worth a warning: a node goes unheard (or someone poses as one).
    if (parsed.op == RequestOp::kReport) {
      spdlog::warn("refused a report from {}: {}", conn->peer, s.message());
    } else {
      spdlog::debug("refused a request from {}: {}", conn->peer, s.message());
    }
    Reply(conn, ErrorReply(kSsgmBadRequest, s.message()), parsed.echo, arrival_ns, kOther);
    return;
  }
  switch (parsed.op) {
    case RequestOp::kRequest: HandleRequest(conn, parsed, arrival_ns); break;
    case RequestOp::kRelease: HandleRelease(conn, parsed, arrival_ns); break;
    case RequestOp::kRenew: HandleRenew(conn, parsed, arrival_ns); break;
    case RequestOp::kReport: HandleReport(conn, parsed, arrival_ns); break;
    case RequestOp::kStats: HandleStats(conn, parsed, arrival_ns); break;
    case RequestOp::kStatus: {
      StatusView view;
      view.with_leases = parsed.with_leases;
      view.identity = parsed.is_operator();
      view.tokens = !options_.lease_key.empty();
      Json reply = BuildStatusReply(*scheduler_, view, WallMs());
      reply.Set("stats", StatsJson());
      Reply(conn, std::move(reply), parsed.echo, arrival_ns, kOther);
      break;
    }
  }
}

void SsgmdService::Impl::HandleStats(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed,
                                     uint64_t arrival_ns) {
  Json reply = Json::Object();
  reply.Set("error", int64_t(kSsgmOk));
  reply.Set("stats", StatsJson());
  if (parsed.reset) {
    for (auto& recorder : latency_) recorder.Reset();
    commit_wait_.Reset();
    notice_delay_.Reset();
  }
  Reply(conn, std::move(reply), parsed.echo, arrival_ns, kOther);
}

bool SsgmdService::Impl::MayActOn(const Lease& lease, const ParsedRequest& parsed) const {
  return parsed.is_operator() || LeaseSecretMatches(lease, parsed.secret);
}

void SsgmdService::Impl::HandleRequest(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed,
                                       uint64_t arrival_ns) {
  const Json& echo = parsed.echo;
  if (revocations_.size() >= options_.max_revocations) {
    // Forgetting a revocation early would let a released lease's token work
    // again; new leases wait instead until older tokens expire.
    Reply(conn, ErrorReply(kSsgmBusy, "too many released leases whose tokens are still valid; try again later"), echo,
          arrival_ns, kRequestNow);
    return;
  }
  // The holder's secret: its own, or one made here and sent with the grant.
  std::string made_secret = parsed.secret.empty() ? NewLeaseSecret() : "";
  LeaseRequest request;
  request.gpus = parsed.gpus;
  request.mem_bytes = parsed.mem_bytes;
  request.ttl_ms = parsed.ttl_ms;
  request.wait_ms = parsed.wait_ms;
  request.key = parsed.key;
  request.secret_sha256 = HashLeaseSecret(parsed.secret.empty() ? made_secret : parsed.secret);
  request.requester = next_requester_++;
  Decision decision = scheduler_->Submit(request, WallMs());
  switch (decision.outcome) {
    case Outcome::kGranted:
      Reply(conn, LeaseReply(decision.lease, decision.repeated, 0, made_secret), echo, arrival_ns, kRequestNow);
      break;
    case Outcome::kQueued:
      conn->waiting.insert(request.requester);
      requesters_[request.requester] = PendingRequester{conn, echo, arrival_ns, made_secret};
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

void SsgmdService::Impl::HandleRelease(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed,
                                       uint64_t arrival_ns) {
  auto found = scheduler_->leases().find(parsed.lease);
  bool existed = false;
  if (found != scheduler_->leases().end()) {
    if (!MayActOn(found->second, parsed)) {
      ++forbidden_;
      Reply(conn, ErrorReply(kSsgmBadRequest, "releasing lease " + parsed.lease + " needs its secret "
                                              "(SSGM_LEASE_SECRET) or the operator key"),
            parsed.echo, arrival_ns, kRelease);
      return;
    }
    // Its tokens stay valid until their expiry: RevokingObserver tells the
    // servers (through each node's monitor) to stop honouring them.
    scheduler_->Release(parsed.lease, WallMs(), &existed);
  }
  Json reply = Json::Object();
  reply.Set("error", int64_t(kSsgmOk));
  reply.Set("lease", parsed.lease);
  reply.Set("released", existed);
  Reply(conn, std::move(reply), parsed.echo, arrival_ns, kRelease);
  DeliverNotices();
  ArmTimer();
}

void SsgmdService::Impl::HandleRenew(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed,
                                     uint64_t arrival_ns) {
  auto found = scheduler_->leases().find(parsed.lease);
  if (found != scheduler_->leases().end() && !MayActOn(found->second, parsed)) {
    ++forbidden_;
    Reply(conn, ErrorReply(kSsgmBadRequest, "renewing lease " + parsed.lease + " needs its secret "
                                            "(SSGM_LEASE_SECRET) or the operator key"),
          parsed.echo, arrival_ns, kRenew);
    return;
  }
  Lease renewed;
  Status s = scheduler_->Renew(parsed.lease, parsed.ttl_ms, WallMs(), &renewed);
  if (!s.ok()) {
    Reply(conn, ErrorReply(kSsgmBadRequest, s.message()), parsed.echo, arrival_ns, kRenew);
  } else {
    Reply(conn, LeaseReply(renewed, false, 0), parsed.echo, arrival_ns, kRenew);
  }
  ArmTimer();
}

void SsgmdService::Impl::HandleReport(const std::shared_ptr<Connection>& conn, const ParsedRequest& parsed,
                                      uint64_t arrival_ns) {
  const NodeReport& report = parsed.report;
  if (scheduler_->nodes().size() >= kMaxNodes && !scheduler_->nodes().count(report.node)) {
    ++malformed_;
    Reply(conn, ErrorReply(kSsgmBadRequest, "bad report: ssgmd knows " + std::to_string(kMaxNodes) + " nodes already"),
          parsed.echo, arrival_ns, kReport);
    return;
  }
  int64_t now = WallMs();
  scheduler_->UpdateNode(report, now);
  NoteNodeLiveness(now);
  Json reply = Json::Object();
  reply.Set("error", int64_t(kSsgmOk));
  if (parsed.wants_revocations) reply.Set("revoked", RevocationsFor(parsed));
  Reply(conn, std::move(reply), parsed.echo, arrival_ns, kReport);
  DeliverNotices();
  ArmTimer();
}

Json SsgmdService::Impl::RevocationsFor(const ParsedRequest& parsed) {
  // Sequence numbers are this run's: a monitor that knew another run's starts over.
  uint64_t after = parsed.revoked_epoch == revocations_.epoch() ? parsed.revoked_after : 0;
  uint64_t last_seq = 0;
  bool more = false;
  auto entries = revocations_.Since(parsed.report.node, after, options_.revocations_per_reply, &last_seq, &more);
  Json revoked = Json::Object();
  revoked.Set("epoch", revocations_.epoch());
  revoked.Set("seq", last_seq);
  revoked.Set("more", more);
  Json leases = Json::Array();
  for (const Revocation* entry : entries) {
    Json item = Json::Object();
    item.Set("lease", entry->lease_id);
    item.Set("until_unix", entry->until_unix);
    leases.Push(std::move(item));
  }
  revoked.Set("leases", std::move(leases));
  return revoked;
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

Json SsgmdService::Impl::LeaseReply(const Lease& lease, bool repeated, uint64_t queued_us,
                                    const std::string& made_secret) const {
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
  if (!made_secret.empty()) reply.Set("secret", made_secret);
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
  if (conn->read_paused && !conn->closed && conn->out.size() < kMaxPendingReplies) {
    conn->read_paused = false;
    Read(conn);
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
        reply = LeaseReply(notice.decision.lease, notice.decision.repeated, queued_us, pending.made_secret);
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
  // A snapshot holds the live leases and the revocations in force.
  uint64_t live = scheduler_->leases().size() + revocations_.size();
  if (journal_->records_in_file() > std::max(options_.compact_min_records, options_.compact_live_factor * live)) {
    journal_->Rewrite(SnapshotRecords(*scheduler_, &revocations_, WallMs()));
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
  revocations_.Prune(now);
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
  Json counters = SchedulerCountersJson(scheduler_->counters());
  counters.Set("malformed", malformed_);
  counters.Set("unauthenticated", unauthenticated_);
  counters.Set("forbidden", forbidden_);
  counters.Set("revoked_live", uint64_t(revocations_.size()));
  stats.Set("counters", std::move(counters));
  Json journal = Json::Object();
  journal.Set("enabled", journal_ != nullptr);
  if (journal_) {
    journal = JournalStatsJson(*journal_);
    journal.Set("commit_noticed_p99_us", notice_delay_.Percentile(99) / 1000);
    journal.Set("reply_wait_p50_us", commit_wait_.Percentile(50) / 1000);
    journal.Set("reply_wait_p99_us", commit_wait_.Percentile(99) / 1000);
  }
  stats.Set("journal", std::move(journal));
  stats.Set("connections", uint64_t(connections_.size()));
  return stats;
}

SsgmdService::SsgmdService(asio::io_context& io, SsgmdOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}
SsgmdService::~SsgmdService() = default;
Status SsgmdService::Start() { return impl_->Start(); }
uint16_t SsgmdService::Port() const { return impl_->Port(); }
void SsgmdService::Stop() { impl_->Stop(); }
bool SsgmdService::failed() const { return impl_->failed(); }

}  // namespace rcuda::sched
