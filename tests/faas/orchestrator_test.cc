// rcuda-orchestrator's parts, each on its own: lease identities, Lambda's
// answers, the Invoke body, the function catalog, the ssgmd client against a
// fake ssgmd (TEST EQUIPMENT: a line server here), and the orchestrator in
// this process against a fake ssgmd and a fake function endpoint (TEST
// EQUIPMENT) with a real redis-server (the harness's): refusals are never
// taken for grants, the lease is released before the message is
// acknowledged, a failed job is retried then dead-lettered with its reason.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "faas/events/s3_event.h"
#include "faas/orchestrator/function_catalog.h"
#include "faas/orchestrator/invocation.h"
#include "faas/orchestrator/lease_identity.h"
#include "faas/orchestrator/orchestrator.h"
#include "faas/orchestrator/ssgmd_client.h"
#include "faas/queue/redis_streams_queue.h"
#include "harness.h"
#include "scheduler/lease_secret.h"
#include "scheduler/request_auth.h"
#include "scheduler/wire.h"

using namespace rcuda::faas;
using nlohmann::json;
using rcuda::sched::Json;
using asio::ip::tcp;

namespace {

// TEST EQUIPMENT: a fake ssgmd on 127.0.0.1. `answer` sees each request and
// returns its reply (nullopt: no reply now; Answer() may send one later);
// with `drop_first` the first connection is closed after its first line.
class FakeSsgmd {
 public:
  using Answer = std::function<std::optional<Json>(const Json& request, const std::string& line)>;
  FakeSsgmd(asio::io_context& io, Answer answer) : io_(io), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), answer_(std::move(answer)) {
    Accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  bool drop_first = false;
  int connections = 0;
  std::vector<std::string> lines;
  // Replies on the latest connection.
  void Reply(Json reply) {
    if (!last_) return;
    auto text = std::make_shared<std::string>(reply.Dump() + "\n");
    asio::async_write(*last_, asio::buffer(*text), [text](const asio::error_code&, size_t) {});
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, tcp::socket socket) {
      if (ec) return;
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      auto buffer = std::make_shared<asio::streambuf>();
      ++connections;
      last_ = s;
      Read(s, buffer, connections == 1 && drop_first);
      Accept();
    });
  }
  void Read(std::shared_ptr<tcp::socket> s, std::shared_ptr<asio::streambuf> buffer, bool drop) {
    asio::async_read_until(*s, *buffer, '\n', [this, s, buffer, drop](const asio::error_code& ec, size_t n) {
      if (ec) return;
      std::string line(asio::buffers_begin(buffer->data()), asio::buffers_begin(buffer->data()) + std::ptrdiff_t(n) - 1);
      buffer->consume(n);
      lines.push_back(line);
      if (drop) {
        s->close();
        return;
      }
      Json request;
      REQUIRE(rcuda::sched::ParseJson(line, &request).ok());
      if (auto reply = answer_(request, line)) {
        if (const Json* id = request.Find("id")) reply->Set("id", *id);
        auto text = std::make_shared<std::string>(reply->Dump() + "\n");
        asio::async_write(*s, asio::buffer(*text), [text](const asio::error_code&, size_t) {});
      }
      Read(s, buffer, false);
    });
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  Answer answer_;
  std::shared_ptr<tcp::socket> last_;
};

Json ErrorReply(int code, const std::string& message) {
  Json reply = Json::Object();
  reply.Set("error", int64_t(code));
  reply.Set("message", message);
  return reply;
}

Json Grant(const std::string& lease, int port) {
  Json reply = Json::Object();
  reply.Set("error", int64_t(0));
  reply.Set("lease", lease);
  reply.Set("mem", int64_t(1) << 30);
  reply.Set("ttl_ms", int64_t(60000));
  reply.Set("expires_ms", int64_t(4102444800000));
  Json device = Json::Object();
  device.Set("node", "n1");
  device.Set("host", "127.0.0.1");
  device.Set("port", int64_t(port));
  device.Set("gpu", int64_t(0));
  device.Set("mem", int64_t(1) << 30);
  Json devices = Json::Array();
  devices.Push(std::move(device));
  reply.Set("devices", std::move(devices));
  reply.Set("token", "rct1.payload.mac");
  return reply;
}

void RunUntil(asio::io_context& io, int timeout_ms, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
}

// TEST EQUIPMENT: Lambda's Invoke API answering as told, counting calls.
class FakeLambda {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit FakeLambda(Handler handler) : handler_(std::move(handler)) {
    server_.Post(R"(/2015-03-31/functions/([^/]+)/invocations)", [this](const httplib::Request& q, httplib::Response& r) {
      ++calls;
      {
        std::lock_guard<std::mutex> lock(mu);
        bodies.push_back(q.body);
      }
      handler_(q, r);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    REQUIRE(faas_test::WaitUntil(5000, [this] { return server_.is_running(); }));
  }
  ~FakeLambda() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<std::string> bodies;

 private:
  httplib::Server server_;
  Handler handler_;
  std::thread thread_;
  int port_ = 0;
};

std::string Event(const std::string& bucket, const std::string& key) {
  S3EventRecord record;
  record.event_name = "ObjectCreated:Put";
  record.bucket = bucket;
  record.key = key;
  return S3EventNotificationJson({record});
}

std::string FunctionsDir(const faas_test::TempDir& dir) {
  std::string functions = dir.Path("functions");
  mkdir(functions.c_str(), 0755);
  faas_test::WriteFile(functions + "/f.yaml",
                       "functions:\n  aws:\n  - lambda:\n      name: gpujob\n      timeout: 5\n      script: 'true'\n"
                       "      input: [{storage_provider: s3, path: inbox/jobs}]\n"
                       "      output: [{storage_provider: s3, path: outbox}]\n"
                       "      gpu: {count: 1, memory: 1GiB}\n");
  return functions;
}

std::unique_ptr<RedisStreamsQueue> OpenQueue(const faas_test::RedisServer& redis, int visibility_ms, int max_deliveries) {
  RedisQueueOptions options;
  REQUIRE(ParseRedisAddress(redis.address(), &options.redis).ok());
  options.visibility_timeout = std::chrono::milliseconds(visibility_ms);
  options.max_deliveries = max_deliveries;
  std::unique_ptr<RedisStreamsQueue> queue;
  REQUIRE(RedisStreamsQueue::Open(options, &queue).ok());
  return queue;
}

OrchestratorOptions Options(const std::string& functions, const std::string& endpoint, int visibility_ms,
                            int attempts) {
  OrchestratorOptions o;
  o.functions_dir = functions;
  o.invoke_endpoint = endpoint;
  o.visibility_timeout_ms = visibility_ms;
  o.max_attempts = attempts;
  o.receive_wait_ms = 50;
  o.lease_wait_ms = 1000;
  o.invoke_margin_ms = 2000;
  return o;
}

}  // namespace

TEST_CASE("lease identities: one per message, the same after a restart", "[orchestrator-unit]") {
  LeaseIdentityMaker a("orchestrator-key-0123456789", "rcuda:faas:jobs");
  LeaseIdentityMaker again("orchestrator-key-0123456789", "rcuda:faas:jobs");
  LeaseIdentityMaker other_key("another-orchestrator-key-0123", "rcuda:faas:jobs");
  LeaseIdentityMaker other_queue("orchestrator-key-0123456789", "other-stream");
  LeaseIdentity id = a.For("1700000000000-0");
  CHECK(a.durable());
  CHECK(rcuda::sched::IsValidKey(id.key));
  CHECK(rcuda::sched::IsValidLeaseSecret(id.secret));
  CHECK(id.key.find("1700000000000-0") != std::string::npos);
  CHECK(again.For("1700000000000-0").key == id.key);
  CHECK(again.For("1700000000000-0").secret == id.secret);  // a restarted orchestrator can act on it
  CHECK(a.For("1700000000000-1").key != id.key);
  CHECK(a.For("1700000000000-1").secret != id.secret);
  CHECK(other_key.For("1700000000000-0").key == id.key);
  CHECK(other_key.For("1700000000000-0").secret != id.secret);  // the key is what proves it
  CHECK(other_queue.For("1700000000000-0").key != id.key);
  // An id that would not make a key is hashed.
  LeaseIdentity odd = a.For("with space\nand newline");
  CHECK(rcuda::sched::IsValidKey(odd.key));
  // Without a key: secrets and keys of this run only.
  LeaseIdentityMaker random1("", "rcuda:faas:jobs"), random2("", "rcuda:faas:jobs");
  CHECK_FALSE(random1.durable());
  CHECK(random1.For("1-0").key == random1.For("1-0").key);
  CHECK(random1.For("1-0").key != random2.For("1-0").key);
}

TEST_CASE("Lambda's answers judged", "[orchestrator-unit]") {
  HttpResponse ok;
  ok.status = 200;
  ok.body = R"({"status":"Succeeded"})";
  ok.headers["x-amzn-requestid"] = "abc";
  CHECK(JudgeInvokeResponse(ok).kind == InvokeVerdict::Kind::kSucceeded);
  CHECK(JudgeInvokeResponse(ok).request_id == "abc");

  HttpResponse failed;
  failed.status = 200;
  failed.headers["x-amz-function-error"] = "Unhandled";
  failed.body = R"({"errorType":"Runtime.ExitError","errorMessage":"exit status 3","logTail":"one\nbad input: x\n\n"})";
  InvokeVerdict v = JudgeInvokeResponse(failed);
  CHECK(v.kind == InvokeVerdict::Kind::kFunctionFailed);
  CHECK(v.reason == "function error (Unhandled): Runtime.ExitError: exit status 3; log: bad input: x");

  HttpResponse throttled;
  throttled.status = 429;
  throttled.headers["retry-after"] = "2";
  throttled.headers["x-amzn-errortype"] = "TooManyRequestsException";
  throttled.body = R"({"Type":"User","message":"Rate Exceeded."})";
  v = JudgeInvokeResponse(throttled);
  CHECK(v.kind == InvokeVerdict::Kind::kThrottled);
  CHECK(v.retry_after_ms == 2000);

  HttpResponse refused;
  refused.status = 404;
  refused.headers["x-amzn-errortype"] = "ResourceNotFoundException";
  refused.body = R"({"Type":"User","message":"Function not found: x"})";
  v = JudgeInvokeResponse(refused);
  CHECK(v.kind == InvokeVerdict::Kind::kRefused);
  CHECK(v.reason == "HTTP 404 ResourceNotFoundException: Function not found: x");

  HttpResponse service;
  service.status = 500;
  service.body = "<html>oops</html>";
  CHECK(JudgeInvokeResponse(service).kind == InvokeVerdict::Kind::kUnavailable);

  HttpResponse refused_connection;
  refused_connection.not_connected = true;
  refused_connection.error = "Connection refused";
  CHECK(JudgeInvokeResponse(refused_connection).kind == InvokeVerdict::Kind::kNotReached);

  HttpResponse silent;
  silent.timed_out = true;
  silent.error = "Operation timed out";
  v = JudgeInvokeResponse(silent);
  CHECK(v.kind == InvokeVerdict::Kind::kUnavailable);
  CHECK(v.reason.find("in time") != std::string::npos);
}

TEST_CASE("the Invoke body: the event and the lease's variables, never its secret", "[orchestrator-unit]") {
  std::string body;
  REQUIRE(BuildInvokeBody(Event("inbox", "jobs/a b.txt"),
                          {{"SSGM_JOB_ID", "l1"}, {"RCUDA_DEVICE_COUNT", "1"}, {"RCUDA_DEVICE_0", "h@1:0"}}, &body)
              .ok());
  json parsed = json::parse(body);
  CHECK(parsed["Records"][0]["s3"]["object"]["key"] == "jobs/a+b.txt");
  CHECK(parsed["rcuda"]["RCUDA_DEVICE_0"] == "h@1:0");
  CHECK(parsed["rcuda"].size() == 3);
  REQUIRE(BuildInvokeBody(R"({"Records":[],"rcuda":{"RCUDA_TOKEN":"forged"}})", {}, &body).ok());
  CHECK_FALSE(json::parse(body).contains("rcuda"));  // a message cannot bring its own lease
  CHECK_FALSE(BuildInvokeBody("[1,2]", {}, &body).ok());
  CHECK_FALSE(BuildInvokeBody("not json", {}, &body).ok());
  CHECK(InvokeUrl("http://h:9000/", "f") == "http://h:9000/2015-03-31/functions/f/invocations");
}

TEST_CASE("the function catalog: inputs to functions, overlaps refused, changes picked up", "[orchestrator-unit]") {
  faas_test::TempDir dir;
  auto def = [](const std::string& name, const std::string& input, const std::string& extra = "") {
    return "functions:\n  aws:\n  - lambda:\n      name: " + name + "\n      script: 'true'\n" +
           "      input: [{storage_provider: s3, path: " + input + "}]\n" + extra;
  };
  faas_test::WriteFile(dir.Path("a.yaml"), def("alpha", "inbox/a", "      gpu: {count: 1, memory: 1GiB}\n"));
  faas_test::WriteFile(dir.Path("b.yaml"), def("beta", "inbox/b"));
  faas_test::WriteFile(dir.Path("c.yaml"), def("gamma", "inbox/a/deeper"));  // inside alpha's input
  faas_test::WriteFile(dir.Path("notes.txt"), "not a definition");
  FunctionCatalog catalog(dir.path());
  REQUIRE(catalog.Refresh().ok());
  CHECK(catalog.size() == 2);
  REQUIRE(catalog.Find("inbox", "a/x.txt"));
  CHECK(catalog.Find("inbox", "a/x.txt")->name == "alpha");
  CHECK(catalog.Find("inbox", "a/x.txt")->gpu.count == 1);
  CHECK(catalog.Find("inbox", "a/deeper/x")->name == "alpha");
  CHECK(catalog.Find("inbox", "b/y")->name == "beta");
  CHECK_FALSE(catalog.Find("inbox", "c/z"));
  CHECK_FALSE(catalog.Find("other", "a/x.txt"));
  REQUIRE(catalog.problems().size() == 1);
  CHECK(catalog.problems()[0].find("overlaps") != std::string::npos);

  // A broken edit keeps the last good definitions; a new file is picked up.
  faas_test::WriteFile(dir.Path("b.yaml"), "functions: [this is: not FDL");
  faas_test::WriteFile(dir.Path("d.yaml"), def("delta", "inbox/d"));
  REQUIRE(catalog.Refresh().ok());
  CHECK(catalog.Find("inbox", "b/y")->name == "beta");
  CHECK(catalog.Find("inbox", "d/1")->name == "delta");
  std::remove(dir.Path("d.yaml").c_str());
  REQUIRE(catalog.Refresh().ok());
  CHECK_FALSE(catalog.Find("inbox", "d/1"));
  CHECK_FALSE(FunctionCatalog(dir.Path("missing")).Refresh().ok());
}

TEST_CASE("the ssgmd client: replies matched by id, requests sent again after a broken connection",
          "[orchestrator-unit]") {
  asio::io_context io;
  std::vector<std::string> held;  // the first request waits; later ones are answered at once
  FakeSsgmd fake(io, [&](const Json& request, const std::string&) -> std::optional<Json> {
    if (request.Find("op")->AsString() == "request") return std::nullopt;
    Json reply = Json::Object();
    reply.Set("error", int64_t(0));
    reply.Set("op_seen", request.Find("op")->AsString());
    return reply;
  });
  fake.drop_first = true;
  SsgmdClientOptions options;
  options.port = fake.port();
  options.client_key = "client-key-0123456789abcdef";
  SsgmdClient client(io, options);
  std::vector<std::string> order;
  Json blocking = Json::Object();
  blocking.Set("op", "request");
  client.Call(blocking, 5000, [&](const Json& reply) { order.push_back("request:" + std::to_string(reply.Find("error")->AsInt())); });
  Json renew = Json::Object();
  renew.Set("op", "renew");
  client.Call(renew, 0, [&](const Json& reply) { order.push_back("renew:" + reply.Find("op_seen")->AsString()); });
  RunUntil(io, 5000, [&] { return order.size() == 1; });
  // The first connection was dropped after one line: both went again on a
  // second one, and the renew's answer came back before the request's.
  CHECK(fake.connections == 2);
  REQUIRE(order == std::vector<std::string>{"renew:renew"});
  CHECK(client.pending() == 1);
  // Every line was signed (and signed afresh when sent again).
  for (const auto& line : fake.lines) {
    CHECK(rcuda::sched::VerifyRequestLine(line, options.client_key, rcuda::sched::UnixMillisNow()).ok());
  }
  // The held request's answer, echoing its id, arrives last.
  Json last_request;
  for (const auto& line : fake.lines) {
    Json parsed;
    REQUIRE(rcuda::sched::ParseJson(line, &parsed).ok());
    if (parsed.Find("op")->AsString() == "request") last_request = parsed;
  }
  Json busy = ErrorReply(2, "busy");
  busy.Set("id", *last_request.Find("id"));
  fake.Reply(busy);
  RunUntil(io, 5000, [&] { return order.size() == 2; });
  CHECK(order.back() == "request:2");
  CHECK(client.pending() == 0);
}

TEST_CASE("refusals are never grants; release comes before the ack", "[orchestrator-unit]") {
  faas_test::TempDir dir;
  faas_test::RedisServer redis;
  asio::io_context io;
  auto queue = OpenQueue(redis, 500, 2);
  std::string functions = FunctionsDir(dir);
  FakeLambda lambda([](const httplib::Request&, httplib::Response& r) {
    r.set_content(R"({"status":"Succeeded"})", "application/json");
  });

  SECTION("SSGM_ERROR 1 and 2 take the failure path: no invocation, a dead letter with ssgmd's reason") {
    int requests = 0;
    FakeSsgmd fake(io, [&](const Json& request, const std::string&) -> std::optional<Json> {
      ++requests;
      CHECK(request.Find("op")->AsString() == "request");
      // First busy (the wait ran out), then refused (impossible).
      return requests == 1 ? ErrorReply(2, "nothing free") : ErrorReply(1, "more memory than any GPU has");
    });
    SsgmdClientOptions ssgmd;
    ssgmd.port = fake.port();
    Orchestrator orchestrator(io, Options(functions, lambda.endpoint(), 500, 2), queue.get(), ssgmd,
                              "orchestrator-key-0123456789", "rcuda:faas:jobs");
    REQUIRE(queue->Publish(Event("inbox", "jobs/big"), nullptr).ok());
    REQUIRE(orchestrator.Start().ok());
    QueueStats stats;
    RunUntil(io, 15000, [&] { return queue->Stats(&stats).ok() && stats.dead_letters == 1 && stats.length == 0; });
    CHECK(stats.dead_letters == 1);
    CHECK(lambda.calls == 0);
    std::vector<DeadLetter> letters;
    REQUIRE(queue->ListDeadLetters(10, &letters).ok());
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].reason.find("SSGM_ERROR=1") != std::string::npos);
    CHECK(letters[0].reason.find("more memory than any GPU has") != std::string::npos);
    CHECK(letters[0].delivery_count == 2);
    CHECK(orchestrator.counters().lease_busy == 1);
    CHECK(orchestrator.counters().leases_granted == 0);
  }

  SECTION("a grant, the invocation, the release, then the ack") {
    std::vector<std::string> events;
    int64_t pending_at_release = -1;
    FakeSsgmd fake(io, [&](const Json& request, const std::string&) -> std::optional<Json> {
      std::string op = request.Find("op")->AsString();
      events.push_back(op);
      if (op == "request") {
        CHECK(request.Find("key")->AsString().find("faas-") == 0);
        CHECK(rcuda::sched::IsValidLeaseSecret(request.Find("secret")->AsString()));
        return Grant("lease-1", 9999);
      }
      if (op == "release") {
        QueueStats stats;
        REQUIRE(queue->Stats(&stats).ok());
        pending_at_release = stats.pending;  // not acknowledged yet
        Json reply = Json::Object();
        reply.Set("error", int64_t(0));
        return reply;
      }
      return Grant("lease-1", 9999);  // renew
    });
    SsgmdClientOptions ssgmd;
    ssgmd.port = fake.port();
    Orchestrator orchestrator(io, Options(functions, lambda.endpoint(), 3000, 2), queue.get(), ssgmd,
                              "orchestrator-key-0123456789", "rcuda:faas:jobs");
    REQUIRE(queue->Publish(Event("inbox", "jobs/ok"), nullptr).ok());
    REQUIRE(orchestrator.Start().ok());
    QueueStats stats;
    RunUntil(io, 15000, [&] { return queue->Stats(&stats).ok() && stats.length == 0; });
    CHECK(stats.length == 0);
    CHECK(stats.dead_letters == 0);
    REQUIRE(lambda.calls == 1);
    json body = json::parse(lambda.bodies[0]);
    CHECK(body["rcuda"]["SSGM_JOB_ID"] == "lease-1");
    CHECK(body["rcuda"]["RCUDA_DEVICE_0"] == "127.0.0.1@9999:0");
    CHECK(body["rcuda"]["RCUDA_TOKEN"] == "rct1.payload.mac");
    CHECK_FALSE(body["rcuda"].contains("SSGM_LEASE_SECRET"));
    REQUIRE(events.size() >= 2);
    CHECK(events.front() == "request");
    CHECK(events.back() == "release");
    CHECK(pending_at_release == 1);
    CHECK(orchestrator.counters().jobs_succeeded == 1);
  }
}

TEST_CASE("rcuda-orchestrator's configuration file and --check-config", "[orchestrator-unit]") {
  faas_test::TempDir dir;
  std::string functions = FunctionsDir(dir);
  faas_test::WriteFile(dir.Path("orchestrator.conf"),
                       "# rcuda-orchestrator\nfunctions-dir = " + functions +
                           "\nredis = 127.0.0.1:7000\nmax-in-flight = 32\nprefetch = 5\nlease-mode = nonblocking\n"
                           "lease-ttl = 2m\nvisibility-timeout = 45s\n");
  auto run = [&](const std::string& args) {
    std::string command = std::string(RCUDA_BIN_DIR) + "/rcuda-orchestrator " + args + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    std::string text;
    char buffer[4096];
    size_t n;
    while (pipe && (n = fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
    int status = pipe ? pclose(pipe) : -1;
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, text);
  };
  auto [code, text] = run("--config " + dir.Path("orchestrator.conf") + " --prefetch 7 --check-config");
  INFO(text);
  CHECK(code == 0);
  CHECK(text.find("redis 127.0.0.1:7000") != std::string::npos);
  CHECK(text.find("max-in-flight 32") != std::string::npos);
  CHECK(text.find("prefetch 7") != std::string::npos);  // the command line wins over the file
  CHECK(text.find("lease-mode nonblocking") != std::string::npos);
  CHECK(text.find("ttl 120000 ms") != std::string::npos);
  CHECK(text.find("visibility-timeout 45000 ms") != std::string::npos);
  auto [bad_code, bad_text] = run("--functions-dir " + functions + " --lease-mode sometimes --check-config");
  CHECK(bad_code != 0);
  CHECK(bad_text.find("--lease-mode") != std::string::npos);
  auto [bad_visibility, why] = run("--functions-dir " + functions + " --visibility-timeout 10ms --check-config");
  CHECK(bad_visibility != 0);
  CHECK(why.find("--visibility-timeout") != std::string::npos);
}
