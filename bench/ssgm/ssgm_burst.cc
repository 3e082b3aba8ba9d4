// ssgm_burst: N concurrent lease requests (each a share of one GPU, released
// after a random short hold) against one ssgmd started here, with the journal
// on. Prints grants per second and decision latency, and checks that no GPU
// was ever granted more memory than it has. See bench/ssgm/README.md.
#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "scheduler/json.h"
#include "scheduler/latency_recorder.h"
#include "scheduler/line_client.h"
#include "scheduler/units.h"

extern char** environ;

namespace {

using asio::ip::tcp;
using rcuda::sched::Json;
using rcuda::sched::LatencyRecorder;
using Clock = std::chrono::steady_clock;

struct Options {
  int requests = 3000;
  int nodes = 8;
  int gpus_per_node = 8;
  std::string gpu_mem = "80G";
  std::string mem_min = "1G";
  std::string mem_max = "8G";
  int hold_max_ms = 20;
  int64_t wait_ms = 60000;
  std::string policy = "best-fit";
  std::string ssgmd = SSGMD_DEFAULT_PATH;
  bool journal = true;
  bool check_targets = false;
  uint64_t seed = 1;
};

uint64_t Ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// The client-side view of every GPU: memory held from the moment a grant is
// read to the moment its release is sent. That interval lies inside the one
// ssgmd counts, so if the clients ever hold more than a GPU has, ssgmd
// over-granted.
class Ledger {
 public:
  explicit Ledger(uint64_t capacity) : capacity_(capacity) {}
  void Take(const std::string& gpu, uint64_t bytes) {
    uint64_t& held = held_[gpu];
    held += bytes;
    if (held > capacity_) ++violations_;
    peak_ = std::max(peak_, held);
  }
  void Drop(const std::string& gpu, uint64_t bytes) { held_[gpu] -= bytes; }
  int violations() const { return violations_; }
  uint64_t peak() const { return peak_; }
  bool all_returned() const {
    for (const auto& [gpu, held] : held_) {
      if (held != 0) return false;
    }
    return true;
  }

 private:
  uint64_t capacity_;
  std::map<std::string, uint64_t> held_;
  int violations_ = 0;
  uint64_t peak_ = 0;
};

struct Results {
  int granted = 0;
  int errors = 0;
  int waited = 0;  // grants that queued for capacity
  int released = 0;
  std::map<int, int> error_codes;
  std::string first_error;
  Clock::time_point first_send, last_grant;
  LatencyRecorder client_total{1 << 20};     // request sent -> reply read
  LatencyRecorder client_decision{1 << 20};  // the same, minus the time queued for capacity
};

class BurstClient : public std::enable_shared_from_this<BurstClient> {
 public:
  BurstClient(asio::io_context& io, tcp::endpoint endpoint, std::string request, int hold_ms, Ledger& ledger,
              Results& results)
      : socket_(io), timer_(io), endpoint_(endpoint), request_(std::move(request)), hold_ms_(hold_ms),
        ledger_(ledger), results_(results) {}

  void Start() {
    auto self = shared_from_this();
    socket_.async_connect(endpoint_, [self](const asio::error_code& ec) {
      if (ec) return self->Fail("connect: " + ec.message());
      asio::error_code ignored;
      self->socket_.set_option(tcp::no_delay(true), ignored);
      self->sent_ = Clock::now();
      if (Ns(self->results_.first_send) == 0 || self->sent_ < self->results_.first_send) {
        self->results_.first_send = self->sent_;
      }
      asio::async_write(self->socket_, asio::buffer(self->request_), [self](const asio::error_code& ec, size_t) {
        if (ec) return self->Fail("send: " + ec.message());
        self->ReadGrant();
      });
    });
  }

 private:
  void ReadGrant() {
    auto self = shared_from_this();
    asio::async_read_until(socket_, input_, '\n', [self](const asio::error_code& ec, size_t n) {
      if (ec) return self->Fail("read: " + ec.message());
      Clock::time_point now = Clock::now();
      std::string line = self->TakeLine(n);
      Json reply;
      if (!rcuda::sched::ParseJson(line, &reply).ok() || !reply.Find("error")) return self->Fail("bad reply: " + line);
      int error = int(reply.Find("error")->AsInt());
      if (error != 0) {
        self->results_.error_codes[error]++;
        const Json* message = reply.Find("message");
        return self->Fail("error " + std::to_string(error) + ": " + (message ? message->AsString() : line));
      }
      uint64_t total = Ns(now) - Ns(self->sent_);
      uint64_t queued = uint64_t(reply.Find("queued_us")->AsInt()) * 1000;
      self->results_.client_total.Add(total);
      self->results_.client_decision.Add(total > queued ? total - queued : 0);
      if (queued > 0) self->results_.waited++;
      self->results_.granted++;
      self->results_.last_grant = now;
      self->lease_ = reply.Find("lease")->AsString();
      self->secret_ = reply.Find("secret") ? reply.Find("secret")->AsString() : "";  // made by ssgmd: none was sent
      self->mem_ = uint64_t(reply.Find("mem")->AsInt());
      const Json& device = reply.Find("devices")->items()[0];
      self->gpu_ = device.Find("node")->AsString() + ":" + std::to_string(device.Find("gpu")->AsInt());
      self->ledger_.Take(self->gpu_, self->mem_);
      self->timer_.expires_after(std::chrono::milliseconds(self->hold_ms_));
      self->timer_.async_wait([self](const asio::error_code&) { self->Release(); });
    });
  }

  void Release() {
    auto self = shared_from_this();
    ledger_.Drop(gpu_, mem_);
    release_ = R"({"op":"release","lease":")" + lease_ + R"(","secret":")" + secret_ + "\"}\n";
    asio::async_write(socket_, asio::buffer(release_), [self](const asio::error_code& ec, size_t) {
      if (ec) return self->Fail("send release: " + ec.message());
      asio::async_read_until(self->socket_, self->input_, '\n', [self](const asio::error_code& ec, size_t n) {
        if (ec) return self->Fail("read release: " + ec.message());
        std::string line = self->TakeLine(n);
        if (line.find("\"released\":true") == std::string::npos) return self->Fail("release refused: " + line);
        self->results_.released++;
        asio::error_code ignored;
        self->socket_.close(ignored);
      });
    });
  }

  std::string TakeLine(size_t n) {
    auto data = input_.data();
    std::string line(asio::buffers_begin(data), asio::buffers_begin(data) + n - 1);
    input_.consume(n);
    return line;
  }

  void Fail(const std::string& why) {
    results_.errors++;
    if (results_.first_error.empty()) results_.first_error = why;
    asio::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  tcp::endpoint endpoint_;
  std::string request_, release_, lease_, secret_, gpu_;
  int hold_ms_;
  uint64_t mem_ = 0;
  Ledger& ledger_;
  Results& results_;
  asio::streambuf input_;
  Clock::time_point sent_;
};

Json Ask(uint16_t port, const std::string& message) {
  rcuda::sched::LineClient client;
  Json reply;
  std::string line;
  if (!client.Connect("127.0.0.1", port, 5000).ok() || !client.WriteLine(message, 5000).ok() ||
      !client.ReadLine(&line, 30000).ok() || !rcuda::sched::ParseJson(line, &reply).ok()) {
    std::fprintf(stderr, "ssgm_burst: no answer from ssgmd to %s\n", message.c_str());
    std::exit(1);
  }
  return reply;
}

double Us(uint64_t ns) { return double(ns) / 1000.0; }

// CPU seconds (user + system) a process has used, from /proc/<pid>/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (fields >> field); ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"ssgm_burst: concurrent lease requests against one ssgmd"};
  app.add_option("--requests", o.requests, "concurrent requests")->capture_default_str();
  app.add_option("--nodes", o.nodes, "fake GPU nodes registered")->capture_default_str();
  app.add_option("--gpus-per-node", o.gpus_per_node)->capture_default_str();
  app.add_option("--gpu-mem", o.gpu_mem, "memory of each GPU")->capture_default_str();
  app.add_option("--mem-min", o.mem_min, "smallest share requested")->capture_default_str();
  app.add_option("--mem-max", o.mem_max, "largest share requested")->capture_default_str();
  app.add_option("--hold-max-ms", o.hold_max_ms, "each lease is held 0..this many ms")->capture_default_str();
  app.add_option("--wait-ms", o.wait_ms, "how long a request may wait for capacity")->capture_default_str();
  app.add_option("--policy", o.policy)->capture_default_str();
  app.add_option("--ssgmd", o.ssgmd, "the ssgmd binary")->capture_default_str();
  bool no_journal = false;
  std::string journal_sync = "fdatasync";
  app.add_option("--journal-sync", journal_sync, "ssgmd's --journal-sync: fdatasync or none")->capture_default_str();
  app.add_flag("--no-journal", no_journal, "run ssgmd without its journal (to see what durability costs)");
  app.add_flag("--check-targets", o.check_targets, "fail unless >= 5000 grants/s and p99 decision latency < 10 ms");
  app.add_option("--seed", o.seed)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  o.journal = !no_journal;
  uint64_t gpu_mem = 0, mem_min = 0, mem_max = 0;
  if (!rcuda::sched::ParseBytes(o.gpu_mem, &gpu_mem).ok() || !rcuda::sched::ParseBytes(o.mem_min, &mem_min).ok() ||
      !rcuda::sched::ParseBytes(o.mem_max, &mem_max).ok() || mem_min == 0 || mem_min > mem_max || mem_max > gpu_mem) {
    std::fprintf(stderr, "ssgm_burst: bad sizes\n");
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < rlim_t(o.requests) + 64) {
    std::fprintf(stderr, "ssgm_burst: %d requests need that many descriptors; the limit is %llu\n", o.requests,
                 (unsigned long long)limit.rlim_cur);
    return 1;
  }

  // ssgmd in a private directory, journal on a real file.
  char pattern[] = "/tmp/ssgm_burst_XXXXXX";
  std::string dir = mkdtemp(pattern);
  std::ofstream(dir + "/key") << "ssgm-burst-benchmark-key-0123456789\n";
  std::vector<std::string> args = {o.ssgmd, "--listen", "127.0.0.1", "--port", "0", "--port-file", dir + "/port",
                                   "--journal", o.journal ? dir + "/journal" : "none", "--journal-sync",
                                   journal_sync, "--auth-key-file",
                                   dir + "/key", "--policy", o.policy, "--node-timeout", "10m", "--max-queue",
                                   std::to_string(o.requests + 10), "--log-level", "warn"};
  std::vector<char*> argv_c;
  for (auto& a : args) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  pid_t ssgmd = -1;
  if (posix_spawn(&ssgmd, argv_c[0], nullptr, nullptr, argv_c.data(), environ) != 0) {
    std::fprintf(stderr, "ssgm_burst: cannot start %s\n", o.ssgmd.c_str());
    return 1;
  }
  uint16_t port = 0;
  for (int i = 0; i < 500 && port == 0; ++i) {
    std::ifstream file(dir + "/port");
    int value = 0;
    if (file >> value) port = uint16_t(value);
    else std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (port == 0) {
    std::fprintf(stderr, "ssgm_burst: ssgmd did not start\n");
    kill(ssgmd, SIGKILL);
    return 1;
  }

  // Fake node registration: what rcuda-gpu-monitor would send. The node
  // timeout is long, so one registration lasts the whole run.
  for (int n = 0; n < o.nodes; ++n) {
    Json report = Json::Object();
    report.Set("op", "report");
    report.Set("node", "bench-n" + std::to_string(n));
    report.Set("host", "127.0.0.1");
    report.Set("port", int64_t(8308));
    report.Set("source", "bench:fake-registration");
    Json gpus = Json::Array();
    for (int g = 0; g < o.gpus_per_node; ++g) {
      Json gpu = Json::Object();
      gpu.Set("index", int64_t(g));
      gpu.Set("name", "fake GPU (benchmark)");
      gpu.Set("total", gpu_mem);
      gpu.Set("free", gpu_mem);
      gpu.Set("util", int64_t(0));
      gpus.Push(std::move(gpu));
    }
    report.Set("gpus", std::move(gpus));
    Ask(port, report.Dump());
  }
  Ask(port, R"({"op":"stats","reset":true})");

  std::mt19937_64 rng(o.seed);
  uint64_t mib_min = mem_min >> 20, mib_max = mem_max >> 20;
  asio::io_context io(1);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  Ledger ledger(gpu_mem);
  Results results;
  std::vector<std::shared_ptr<BurstClient>> clients;
  for (int i = 0; i < o.requests; ++i) {
    uint64_t mem = (mib_min + rng() % (mib_max - mib_min + 1)) << 20;
    std::string request = R"({"op":"request","gpus":1,"mem":)" + std::to_string(mem) + R"(,"wait_ms":)" +
                          std::to_string(o.wait_ms) + R"(,"ttl_ms":60000,"key":"burst-)" + std::to_string(i) +
                          "\"}\n";
    int hold = o.hold_max_ms > 0 ? int(rng() % uint64_t(o.hold_max_ms + 1)) : 0;
    clients.push_back(std::make_shared<BurstClient>(io, endpoint, request, hold, ledger, results));
  }
  double ssgmd_cpu_before = CpuSeconds(ssgmd);
  Clock::time_point start = Clock::now();
  for (auto& client : clients) client->Start();
  clients.clear();
  io.run();
  Clock::time_point end = Clock::now();
  double ssgmd_cpu = CpuSeconds(ssgmd) - ssgmd_cpu_before;

  Json stats = Ask(port, R"({"op":"stats"})");
  Json status = Ask(port, R"({"op":"status","leases":false})");
  kill(ssgmd, SIGTERM);
  int ssgmd_status = 0;
  waitpid(ssgmd, &ssgmd_status, 0);
  if (std::system(("rm -rf '" + dir + "'").c_str()) != 0) std::fprintf(stderr, "ssgm_burst: could not remove %s\n", dir.c_str());

  const Json& s = *stats.Find("stats");
  auto latency = [&](const char* kind, const char* field) {
    const Json* entry = s.Find(kind);
    return entry ? double(entry->Find(field)->AsInt()) : 0.0;
  };
  double burst_seconds = std::chrono::duration<double>(results.last_grant - results.first_send).count();
  double grants_per_second = burst_seconds > 0 ? results.granted / burst_seconds : 0;
  const Json& journal = *s.Find("journal");
  int64_t leases_left = status.Find("lease_count")->AsInt();
  std::string invariants = status.Find("invariants")->AsString();

  std::printf("ssgm_burst: %d concurrent requests, %d GPUs (%d fake nodes x %d x %s), shares %s-%s, hold 0-%d ms, "
              "policy %s, journal %s\n",
              o.requests, o.nodes * o.gpus_per_node, o.nodes, o.gpus_per_node, o.gpu_mem.c_str(), o.mem_min.c_str(),
              o.mem_max.c_str(), o.hold_max_ms, o.policy.c_str(),
              !o.journal ? "OFF" : journal_sync == "none" ? "on, written per batch without fdatasync" : "on, fdatasync per batch");
  std::printf("granted %d/%d, errors %d, released %d; %d waited in the queue for capacity\n", results.granted,
              o.requests, results.errors, results.released, results.waited);
  if (!results.first_error.empty()) std::printf("first error: %s\n", results.first_error.c_str());
  std::printf("burst: first request sent to last grant read %.3f s: %.0f grants/s (run %.3f s with releases)\n",
              burst_seconds, grants_per_second, std::chrono::duration<double>(end - start).count());
  std::printf("ssgmd decision latency (request read -> reply written, journal commit included; for queued requests "
              "from the moment capacity appeared):\n");
  std::printf("  immediate grants: n=%.0f p50 %.0f us, p99 %.0f us, max %.0f us\n",
              latency("request_latency", "count"), latency("request_latency", "p50_us"),
              latency("request_latency", "p99_us"), latency("request_latency", "max_us"));
  std::printf("  after a wait:     n=%.0f p50 %.0f us, p99 %.0f us, max %.0f us\n",
              latency("request_after_wait_latency", "count"), latency("request_after_wait_latency", "p50_us"),
              latency("request_after_wait_latency", "p99_us"), latency("request_after_wait_latency", "max_us"));
  std::printf("  releases:         n=%.0f p50 %.0f us, p99 %.0f us\n", latency("release_latency", "count"),
              latency("release_latency", "p50_us"), latency("release_latency", "p99_us"));
  std::printf("client-observed (request sent -> grant read; includes waiting in the listen backlog and for the "
              "event loop):\n");
  std::printf("  minus time queued for capacity: p50 %.0f us, p99 %.0f us, max %.0f us\n",
              Us(results.client_decision.Percentile(50)), Us(results.client_decision.Percentile(99)),
              Us(results.client_decision.max()));
  std::printf("  total:                          p50 %.0f us, p99 %.0f us, max %.0f us\n",
              Us(results.client_total.Percentile(50)), Us(results.client_total.Percentile(99)),
              Us(results.client_total.max()));
  if (journal.Find("batches")) {
    std::printf("journal: %lld batches for %lld records; write+fdatasync per batch p50 %lld us, p99 %lld us, "
                "max %lld us\n",
                (long long)journal.Find("batches")->AsInt(), (long long)journal.Find("records")->AsInt(),
                (long long)journal.Find("p50_sync_us")->AsInt(), (long long)journal.Find("p99_sync_us")->AsInt(),
                (long long)journal.Find("max_sync_us")->AsInt());
    std::printf("replies waiting for their journal commit: p50 %lld us, p99 %lld us (writer thread pickup p99 %lld "
                "us, commit noticed by the event loop p99 %lld us)\n",
                (long long)journal.Find("reply_wait_p50_us")->AsInt(),
                (long long)journal.Find("reply_wait_p99_us")->AsInt(),
                (long long)journal.Find("writer_pickup_p99_us")->AsInt(),
                (long long)journal.Find("commit_noticed_p99_us")->AsInt());
  } else {
    std::printf("journal: off\n");
  }
  std::printf("ssgmd CPU during the run: %.2f s (%.0f us per request+release)\n", ssgmd_cpu,
              results.granted ? ssgmd_cpu * 1e6 / results.granted : 0.0);
  bool over_granted = ledger.violations() > 0;
  std::printf("over-grant check: %s (peak held on one GPU %s of %s); ssgmd invariants: %s; leases left: %lld\n",
              over_granted ? "FAILED" : "ok", rcuda::sched::FormatBytes(ledger.peak()).c_str(),
              rcuda::sched::FormatBytes(gpu_mem).c_str(), invariants.c_str(), (long long)leases_left);

  bool correct = results.granted == o.requests && results.errors == 0 && results.released == o.requests &&
                 !over_granted && ledger.all_returned() && leases_left == 0 && invariants == "ok";
  bool targets = grants_per_second >= 5000 && latency("request_latency", "p99_us") < 10000 &&
                 (latency("request_after_wait_latency", "count") == 0 ||
                  latency("request_after_wait_latency", "p99_us") < 10000);
  std::printf("result: %s; targets (>= 5000 grants/s, p99 decision < 10 ms): %s\n", correct ? "CORRECT" : "INCORRECT",
              targets ? "met" : "missed");
  if (!correct) return 1;
  if (o.check_targets && !targets) return 2;
  return 0;
}
