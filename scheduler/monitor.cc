#include "scheduler/monitor.h"

#include <chrono>
#include <ctime>
#include <thread>

#include "common/log.h"
#include "scheduler/json.h"
#include "scheduler/line_client.h"
#include "scheduler/request_auth.h"
#include "scheduler/server_status_file.h"
#include "scheduler/wire.h"

namespace rcuda::sched {

namespace {

// Bounds: one reply's size, and the replies fetched in one interval.
constexpr size_t kMaxReplyBytes = size_t(16) << 20;
constexpr int kMaxRevocationRounds = 64;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Logs a problem when it starts or changes, not on every interval.
class StateLog {
 public:
  void Problem(const std::string& what) {
    if (what != current_) spdlog::warn("{}", what);
    current_ = what;
  }
  void Fine(const std::string& what) {
    if (!current_.empty() || first_) spdlog::info("{}", what);
    current_.clear();
    first_ = false;
  }

 private:
  std::string current_;
  bool first_ = true;
};

}  // namespace

Monitor::Monitor(MonitorOptions options, std::unique_ptr<GpuSource> source)
    : options_(std::move(options)), source_(std::move(source)) {}

Status Monitor::BuildReport(NodeReport* report) {
  NodeReport r;
  r.node = options_.node_name;
  r.host = options_.advertise_host;
  r.port = options_.server_port;
  r.source = source_->Describe();
  RCUDA_RETURN_IF_ERROR(source_->Read(&r.gpus));
  if (!options_.server_status_file.empty()) {
    ServerStatus status;
    Status s = ReadServerStatusFile(options_.server_status_file, &status);
    if (s.ok() && ProcessExists(status.server_pid)) {
      r.server = ServerState::kUp;
      if (status.port != 0) r.port = status.port;
      r.sessions = std::move(status.sessions);
    } else {
      // No file, a broken one, or the server that wrote it is gone.
      r.server = ServerState::kDown;
    }
  }
  *report = std::move(r);
  return Status::Ok();
}

Status Monitor::Exchange(LineClient* client, const NodeReport& report, MonitorRevocations* revocations,
                         bool* more) {
  *more = false;
  Json message = Json::Object();
  message.Set("op", "report");
  EncodeNodeReport(report, &message);
  if (revocations) revocations->AddRequestFields(&message);
  int64_t timeout = std::max<int64_t>(2000, options_.interval_ms);
  Status s;
  if (!client->connected()) s = client->Connect(options_.scheduler_host, options_.scheduler_port, timeout);
  if (s.ok()) {
    std::string text = message.Dump();
    if (!options_.client_key.empty()) text = SignRequestLine(text, options_.client_key, UnixMillisNow());
    s = client->WriteLine(text, timeout);
  }
  std::string line;
  if (s.ok()) s = client->ReadLine(&line, timeout, kMaxReplyBytes);
  Json reply;
  if (s.ok()) s = ParseJson(line, &reply);
  if (s.ok()) {
    const Json* error = reply.Find("error");
    if (!error || !error->is_integer() || error->AsInt() != 0) {
      const Json* why = reply.Find("message");
      s = Status::InvalidValue("ssgmd refused the report: " +
                               (why && why->is_string() ? why->AsString() : line.substr(0, 200)));
    }
  }
  if (s.ok() && revocations) {
    int64_t now = ::time(nullptr);
    s = revocations->TakeReply(reply, now, more);
    Status written = revocations->Write(now);
    if (s.ok()) s = written;
  }
  return s;
}

void Monitor::Run(const std::atomic<bool>* stop) {
  LineClient client;
  StateLog log;
  std::unique_ptr<MonitorRevocations> revocations;
  if (!options_.revoked_leases_file.empty()) {
    revocations = std::make_unique<MonitorRevocations>(options_.revoked_leases_file);
  }
  std::string where = options_.scheduler_host + ":" + std::to_string(options_.scheduler_port);
  int64_t next = SteadyMs();
  while (!stop->load()) {
    NodeReport report;
    Status s = BuildReport(&report);
    if (!s.ok()) {
      // Not reporting makes ssgmd stop granting here, which is what a node
      // whose GPUs cannot be read should get.
      log.Problem("cannot read the GPUs, not reporting: " + s.message());
    } else {
      // A backlog of revocations comes in several replies: ask again at once.
      bool more = true;
      for (int round = 0; s.ok() && more && round < kMaxRevocationRounds; ++round) {
        s = Exchange(&client, report, revocations.get(), &more);
      }
      if (s.ok()) {
        log.Fine("reporting node " + report.node + " (" + std::to_string(report.gpus.size()) + " GPU(s), server " +
                 ServerStateName(report.server) + ", GPU data from " + report.source + ") to ssgmd at " + where);
      } else {
        client.Close();
        log.Problem("reporting to ssgmd at " + where + " failed (retrying every interval): " + s.message());
      }
    }
    next += options_.interval_ms;
    int64_t now = SteadyMs();
    if (next < now) next = now;
    while (!stop->load() && SteadyMs() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(50, next - SteadyMs() + 1)));
    }
  }
}

}  // namespace rcuda::sched
