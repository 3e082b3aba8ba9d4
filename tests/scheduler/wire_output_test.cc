#include <catch2/catch.hpp>

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
