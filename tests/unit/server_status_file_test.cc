// protocol/server_status_file: the one definition of rcuda-server's status
// file, written by the server and read by rcuda-gpu-monitor.
#include "protocol/server_status_file.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

namespace rcuda {
namespace {

ServerStatusFile Example() {
  ServerStatusFile status;
  status.server_pid = 123;
  status.port = 8308;
  status.backend = "cuda";
  status.sessions.push_back({.id = 7, .gpu = 0, .worker_pid = 456, .peer = "10.0.0.5:41234", .lease = "L1",
                             .started_unix = 1764263000, .transport = "ucx", .transport_detail = "rc_mlx5/mlx5_0:1"});
  status.sessions.push_back({.id = 8, .gpu = 3, .worker_pid = 457, .peer = "[::1]:5\"\\\n", .lease = "",
                             .started_unix = -1});
  return status;
}

void CheckEqual(const ServerStatusFile& a, const ServerStatusFile& b) {
  CHECK(a.server_pid == b.server_pid);
  CHECK(a.port == b.port);
  CHECK(a.backend == b.backend);
  REQUIRE(a.sessions.size() == b.sessions.size());
  for (size_t i = 0; i < a.sessions.size(); ++i) {
    CHECK(a.sessions[i].id == b.sessions[i].id);
    CHECK(a.sessions[i].gpu == b.sessions[i].gpu);
    CHECK(a.sessions[i].worker_pid == b.sessions[i].worker_pid);
    CHECK(a.sessions[i].peer == b.sessions[i].peer);
    CHECK(a.sessions[i].lease == b.sessions[i].lease);
    CHECK(a.sessions[i].started_unix == b.sessions[i].started_unix);
    CHECK(a.sessions[i].transport == b.sessions[i].transport);
    CHECK(a.sessions[i].transport_detail == b.sessions[i].transport_detail);
  }
}

TEST_CASE("the status file round-trips through its text", "[server_status_file]") {
  ServerStatusFile parsed;
  REQUIRE(ParseServerStatus(FormatServerStatus(Example()), &parsed).ok());
  CheckEqual(parsed, Example());
}

TEST_CASE("the status file keeps the format the server wrote before", "[server_status_file]") {
  ServerStatusFile status = Example();
  status.sessions.pop_back();
  // Byte for byte what the hand-built writer produced, members in this order.
  CHECK(FormatServerStatus(status) ==
        R"({"server_pid":123,"port":8308,"backend":"cuda","sessions":[{"id":7,"gpu":0,"worker_pid":456,)"
        R"("peer":"10.0.0.5:41234","lease":"L1","started_unix":1764263000,"transport":"ucx",)"
        R"("transport_detail":"rc_mlx5/mlx5_0:1"}]})"
        "\n");
  status.sessions.clear();
  CHECK(FormatServerStatus(status) == R"({"server_pid":123,"port":8308,"backend":"cuda","sessions":[]})"
                                      "\n");
}

TEST_CASE("the status file's reader tolerates what it may and refuses the rest", "[server_status_file]") {
  ServerStatusFile s;
  // Unknown members (a newer server's) are ignored; absent optional ones are defaults.
  REQUIRE(ParseServerStatus(R"({"server_pid":5,"new_member":[1,2],"sessions":[{"id":1,"transport":"x"}]})", &s).ok());
  CHECK(s.server_pid == 5);
  CHECK(s.port == 0);
  REQUIRE(s.sessions.size() == 1);
  CHECK(s.sessions[0].id == 1);
  CHECK_FALSE(ParseServerStatus(R"({"port":8308})", &s).ok());  // no server_pid
  CHECK_FALSE(ParseServerStatus("not json", &s).ok());
  CHECK_FALSE(ParseServerStatus("[1]", &s).ok());
  CHECK_FALSE(ParseServerStatus(R"({"server_pid":"5"})", &s).ok());
  CHECK_FALSE(ParseServerStatus(R"({"server_pid":5,"port":65536})", &s).ok());
  CHECK_FALSE(ParseServerStatus(R"({"server_pid":5,"port":-1})", &s).ok());
  CHECK_FALSE(ParseServerStatus(R"({"server_pid":5,"sessions":[{"gpu":4294967296}]})", &s).ok());
  CHECK_FALSE(ParseServerStatus(R"({"server_pid":5,"sessions":[{"peer":1}]})", &s).ok());
  CHECK_FALSE(ParseServerStatus(R"({"server_pid":5,"sessions":[7]})", &s).ok());
  CHECK_FALSE(ParseServerStatus(R"({"server_pid":18446744073709551615})", &s).ok());
}

TEST_CASE("the status file is written and read back", "[server_status_file]") {
  char dir[] = "/tmp/rcuda-status-test-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/status.json";
  REQUIRE(WriteServerStatusFile(path, Example()).ok());
  ServerStatusFile read;
  REQUIRE(ReadServerStatusFile(path, &read).ok());
  CheckEqual(read, Example());
  CHECK_FALSE(ReadServerStatusFile(std::string(dir) + "/absent.json", &read).ok());
  std::ofstream(path) << "{";
  CHECK_FALSE(ReadServerStatusFile(path, &read).ok());
  CHECK_FALSE(WriteServerStatusFile(std::string(dir) + "/no/such/dir/status.json", Example()).ok());
  std::remove(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace rcuda
