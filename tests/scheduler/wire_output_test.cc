#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "protocol/lease_token.h"
#include "scheduler/gpu_source.h"
#include "scheduler/line_client.h"
#include "scheduler/server_status_file.h"
#include "scheduler/ssgm_output.h"
#include "scheduler/wire.h"

using namespace rcuda::sched;

TEST_CASE("node reports round-trip through the wire encoding", "[wire]") {
  NodeReport report;
  report.node = "gpu-node1";
  report.host = "10.0.0.7";
  report.port = 9000;
  report.source = "nvml";
  report.server = ServerState::kUp;
  report.gpus.push_back({0, "NVIDIA H100 80GB HBM3", "GPU-1234", 80ull << 30, 79ull << 30, 12});
  report.sessions.push_back({7, 0, 456, "10.0.0.5:41234", "abcd", 1764263000});
  Json json = Json::Object();
  json.Set("op", "report");
  EncodeNodeReport(report, &json);
  Json parsed_json;
  REQUIRE(ParseJson(json.Dump(), &parsed_json).ok());
  NodeReport decoded;
  REQUIRE(DecodeNodeReport(parsed_json, &decoded).ok());
  CHECK(decoded.node == "gpu-node1");
  CHECK(decoded.port == 9000);
  CHECK(decoded.server == ServerState::kUp);
  REQUIRE(decoded.gpus.size() == 1);
  CHECK(decoded.gpus[0].total_bytes == (80ull << 30));
  CHECK(decoded.gpus[0].utilization_percent == 12);
  REQUIRE(decoded.sessions.size() == 1);
  CHECK(decoded.sessions[0].lease == "abcd");
}

TEST_CASE("bad node reports are refused", "[wire]") {
  Json json;
  NodeReport decoded;
  for (const char* bad :
       {R"({"node":"a b","host":"h","port":1,"gpus":[]})", R"({"node":"a","host":"h","port":0,"gpus":[]})",
        R"({"node":"a","host":"h","port":1})", R"({"node":"a","host":"h;x","port":1,"gpus":[]})",
        R"({"node":"a","host":"h","port":1,"gpus":[{"index":0,"total":-1,"free":0}]})",
        R"({"node":"a","host":"h","port":1,"gpus":[{"index":0,"total":1,"free":0},{"index":0,"total":1,"free":0}]})",
        R"({"node":"a","host":"h","port":1,"server":"maybe","gpus":[]})"}) {
    INFO(bad);
    REQUIRE(ParseJson(bad, &json).ok());
    CHECK_FALSE(DecodeNodeReport(json, &decoded).ok());
  }
}

TEST_CASE("the inventory file format", "[monitor]") {
  std::vector<GpuReport> gpus;
  REQUIRE(ParseInventory("# index total free util name\n"
                         "0 80G 79G 5 NVIDIA H100 80GB HBM3\n"
                         "\n"
                         "1 16G 16G 0   # no name\n",
                         &gpus)
              .ok());
  REQUIRE(gpus.size() == 2);
  CHECK(gpus[0].name == "NVIDIA H100 80GB HBM3");
  CHECK(gpus[0].free_bytes == (79ull << 30));
  CHECK(gpus[0].utilization_percent == 5);
  CHECK(gpus[1].name == "GPU 1");
  CHECK_FALSE(ParseInventory("0 80G\n", &gpus).ok());
  CHECK_FALSE(ParseInventory("0 8G 9G 0 x\n", &gpus).ok());  // free > total
  CHECK_FALSE(ParseInventory("0 8G 8G 101 x\n", &gpus).ok());
  CHECK_FALSE(ParseInventory("0 8G 8G 0 x\n0 8G 8G 0 y\n", &gpus).ok());
  CHECK_FALSE(ParseInventory("a 8G 8G 0 x\n", &gpus).ok());
}

TEST_CASE("rcuda-server's status file", "[monitor]") {
  ServerStatus status;
  REQUIRE(ParseServerStatus(R"({"server_pid":123,"port":8308,"backend":"cuda","sessions":[{"id":7,"gpu":0,)"
                            R"("worker_pid":456,"peer":"10.0.0.5:41234","lease":"L1","started_unix":1764263000}]})",
                            &status)
              .ok());
  CHECK(status.server_pid == 123);
  CHECK(status.port == 8308);
  REQUIRE(status.sessions.size() == 1);
  CHECK(status.sessions[0].worker_pid == 456);
  CHECK(status.sessions[0].lease == "L1");
  CHECK(status.sessions[0].transport.empty());  // an older server's file
  // A session's transport and what it runs on (UCX's transports).
  REQUIRE(ParseServerStatus(R"({"server_pid":123,"port":8308,"sessions":[{"id":8,"gpu":0,"worker_pid":457,)"
                            R"("transport":"ucx","transport_detail":"rc_mlx5/mlx5_0:1"}]})",
                            &status)
              .ok());
  REQUIRE(status.sessions.size() == 1);
  CHECK(status.sessions[0].transport == "ucx");
  CHECK(status.sessions[0].transport_detail == "rc_mlx5/mlx5_0:1");
  CHECK_FALSE(ParseServerStatus(R"({"server_pid":1,"sessions":[{"transport":7}]})", &status).ok());
  CHECK_FALSE(ParseServerStatus(R"({"port":8308})", &status).ok());
  CHECK_FALSE(ParseServerStatus("not json", &status).ok());
  CHECK(ProcessExists(::getpid()));
  CHECK_FALSE(ProcessExists(0));
}

TEST_CASE("ssgm prints a lease as one line, as env exports and as JSON", "[output]") {
  Json reply;
  REQUIRE(ParseJson(R"({"error":0,"lease":"abc123","mem":1073741824,"expires_ms":1764263000500,)"
                    R"("devices":[{"node":"n1","host":"10.0.0.7","port":8308,"gpu":0,"mem":1073741824},)"
                    R"({"node":"n2","host":"::1","port":9000,"gpu":2,"mem":1073741824}],"token":"rct1.x.y"})",
                    &reply)
              .ok());
  SsgmOutput out = LeaseOutput(reply);
  CHECK(out.error == 0);
  CHECK(Render(out, OutputFormat::kLine) ==
        "SSGM_ERROR=0;SSGM_JOB_ID=abc123;RCUDA_DEVICE_COUNT=2;RCUDA_DEVICE_0=10.0.0.7@8308:0;"
        "RCUDA_DEVICE_1=[::1]@9000:2;RCUDA_TOKEN=rct1.x.y\n");
  CHECK(Render(out, OutputFormat::kEnv) ==
        "export SSGM_ERROR='0';\nexport SSGM_JOB_ID='abc123';\nexport RCUDA_DEVICE_COUNT='2';\n"
        "export RCUDA_DEVICE_0='10.0.0.7@8308:0';\nexport RCUDA_DEVICE_1='[::1]@9000:2';\n"
        "export RCUDA_TOKEN='rct1.x.y';\n");
  Json json;
  REQUIRE(ParseJson(Render(out, OutputFormat::kJson), &json).ok());
  CHECK(json.Find("lease")->AsString() == "abc123");
  CHECK(json.Find("devices")->items()[1].Find("endpoint")->AsString() == "[::1]@9000:2");
  CHECK(json.Find("expires_unix")->AsInt() == 1764263001);
}

TEST_CASE("ssgm prints errors with their SSGM_ERROR code", "[output]") {
  Json reply;
  REQUIRE(ParseJson(R"({"error":2,"message":"no GPU free"})", &reply).ok());
  SsgmOutput out = LeaseOutput(reply);
  CHECK(out.error == 2);
  CHECK(Render(out, OutputFormat::kLine) == "SSGM_ERROR=2\n");
  CHECK(Render(out, OutputFormat::kEnv) == "export SSGM_ERROR='2';\n");
  Json json;
  REQUIRE(ParseJson(Render(out, OutputFormat::kJson), &json).ok());
  CHECK(json.Find("message")->AsString() == "no GPU free");
  CHECK(LeaseOutput(Json::Object()).error == kSsgmBadRequest);
}

TEST_CASE("scheduler addresses parse with optional ports and IPv6 brackets", "[output]") {
  std::string host;
  uint16_t port = 0;
  REQUIRE(ParseHostPort("sched.example", 8309, &host, &port).ok());
  CHECK((host == "sched.example" && port == 8309));
  REQUIRE(ParseHostPort("10.1.2.3:9999", 8309, &host, &port).ok());
  CHECK((host == "10.1.2.3" && port == 9999));
  REQUIRE(ParseHostPort("[::1]:7000", 8309, &host, &port).ok());
  CHECK((host == "::1" && port == 7000));
  REQUIRE(ParseHostPort("fe80::1", 8309, &host, &port).ok());
  CHECK((host == "fe80::1" && port == 8309));
  CHECK_FALSE(ParseHostPort("host:0", 8309, &host, &port).ok());
  CHECK_FALSE(ParseHostPort("host:x", 8309, &host, &port).ok());
  CHECK_FALSE(ParseHostPort(":80", 8309, &host, &port).ok());
}

namespace {

// Runs `script` in /bin/sh with $1 = `text` and returns its stdout.
std::string RunShell(const std::string& script, const std::string& text) {
  std::string out_path = "/tmp/wire_output_test_" + std::to_string(getpid()) + ".out";
  pid_t pid = fork();
  if (pid == 0) {
    if (!std::freopen(out_path.c_str(), "w", stdout)) _exit(127);
    execl("/bin/sh", "sh", "-c", script.c_str(), "sh", text.c_str(), (char*)nullptr);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream file(out_path);
  std::ostringstream out;
  out << file.rdbuf();
  std::remove(out_path.c_str());
  return out.str();
}

Json ReplyWith(const std::string& lease, const std::string& host, const std::string& token,
               const std::string& secret) {
  Json device = Json::Object();
  device.Set("node", "n1");
  device.Set("host", host);
  device.Set("port", int64_t(8308));
  device.Set("gpu", int64_t(0));
  device.Set("mem", int64_t(1));
  Json devices = Json::Array();
  devices.Push(device);
  Json reply = Json::Object();
  reply.Set("error", int64_t(0));
  reply.Set("lease", lease);
  reply.Set("devices", devices);
  reply.Set("token", token);
  if (!secret.empty()) reply.Set("secret", secret);
  return reply;
}

}  // namespace

TEST_CASE("ssgm prints the lease's secret, for renew and release", "[output][security]") {
  Json reply = ReplyWith("abc123", "10.0.0.7", "rct1.x.y", "");
  SsgmOutput out = LeaseOutput(reply, "0123456789abcdef0123456789abcdef");
  REQUIRE(out.error == 0);
  CHECK(Render(out, OutputFormat::kLine) ==
        "SSGM_ERROR=0;SSGM_JOB_ID=abc123;RCUDA_DEVICE_COUNT=1;RCUDA_DEVICE_0=10.0.0.7@8308:0;RCUDA_TOKEN=rct1.x.y;"
        "SSGM_LEASE_SECRET=0123456789abcdef0123456789abcdef\n");
  Json json;
  REQUIRE(ParseJson(Render(out, OutputFormat::kJson), &json).ok());
  CHECK(json.Find("secret")->AsString() == "0123456789abcdef0123456789abcdef");
  // One that ssgmd made (the request carried none) comes in the reply.
  reply = ReplyWith("abc123", "10.0.0.7", "rct1.x.y", "made-by-ssgmd-0123456789");
  CHECK(Render(LeaseOutput(reply), OutputFormat::kEnv).find("export SSGM_LEASE_SECRET='made-by-ssgmd-0123456789';") !=
        std::string::npos);
}

TEST_CASE("ssgm refuses to print a reply whose values a shell would run", "[output][security]") {
  std::string marker = "/tmp/wire_output_test_pwned_" + std::to_string(getpid());
  std::remove(marker.c_str());
  std::string payload = "x'$(touch${IFS}" + marker + ")'";
  for (const Json& crafted : {ReplyWith("abc", payload, "rct1.x.y", ""), ReplyWith(payload, "h", "rct1.x.y", ""),
                              ReplyWith("abc", "h", payload, ""), ReplyWith("abc", "h", "rct1.x.y", payload)}) {
    SsgmOutput out = LeaseOutput(crafted);
    CHECK(out.error == kSsgmBadRequest);
    for (OutputFormat format : {OutputFormat::kLine, OutputFormat::kEnv}) {
      std::string text = Render(out, format);
      CHECK(text.find(marker) == std::string::npos);
      RunShell("eval \"$1\"", text);
    }
  }
  // The error message from ssgmd goes to stderr, never to what is evaluated,
  // and its control characters are neutralized.
  Json error_reply;
  REQUIRE(ParseJson(R"({"error":1,"message":"\u001b]0;x\u0007 no"})", &error_reply).ok());
  CHECK(LeaseOutput(error_reply).message == "?]0;x? no");
  CHECK(::access(marker.c_str(), F_OK) != 0);
}

TEST_CASE("every value printed for eval is quoted so the shell takes it literally", "[output][security]") {
  std::string marker = "/tmp/wire_output_test_quoted_" + std::to_string(getpid());
  std::remove(marker.c_str());
  for (std::string value : {std::string("plain"), std::string("it's"), "a'$(touch " + marker + ")'b",
                            "`touch " + marker + "`", std::string("$HOME ~ * ? [a] ; & | > <"),
                            std::string("line\nbreak"), std::string("'''"), std::string("\\'")}) {
    INFO(value);
    SsgmOutput out;
    out.variables.emplace_back("SSGM_ERROR", "0");
    out.variables.emplace_back("X", value);
    for (OutputFormat format : {OutputFormat::kLine, OutputFormat::kEnv}) {
      CHECK(RunShell("eval \"$1\"; printf %s \"$X\"", Render(out, format)) == value);
    }
  }
  CHECK(ShellQuote("a'b") == "'a'\\''b'");
  CHECK(::access(marker.c_str(), F_OK) != 0);
}
