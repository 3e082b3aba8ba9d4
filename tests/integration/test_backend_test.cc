// The test backend (rcuda-server --backend test): the CUDA executor on the
// fake libcuda.so.1 of tests/fake_driver (TEST EQUIPMENT). What it shows
// says so wherever it shows, and it takes its configuration from the
// server's own options. One CTest entry per case (test_backend.*).
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <sstream>

#include "harness.h"

namespace rcuda::itest {
namespace {

TEST_CASE("the test backend is labelled test equipment wherever it shows, and has --test-memory",
          "[test_backend_labels]") {
  TestServer::Options options;
  options.test_memory = 3ull << 30;
  TestServer server(options);
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());

  // What the client library is told at the handshake.
  RawClient c;
  REQUIRE(c.Connect(server.port()).ok());
  const wire::Reply* reply = nullptr;
  REQUIRE(c.Hello(HelloFields{}, &reply).ok());
  const wire::HelloReply* hello = reply->body_as_HelloReply();
  REQUIRE(hello);
  REQUIRE(hello->accepted());
  const wire::DeviceInfo* device = hello->device();
  REQUIRE(device);
  REQUIRE(device->name());
  CHECK(device->name()->str() == "rcuda TEST device (host memory, not a GPU)");
  REQUIRE(device->backend());
  CHECK(device->backend()->str() == "test");
  CHECK(device->test_device());
  CHECK(device->arch() == 90);

  // What a program's user is told, and the memory it sees.
  Program info(BuildPaths::Probe(), {"meminfo"}, ClientEnv(server.endpoint()));
  REQUIRE(info.Wait(milliseconds(60000)) == 0);
  CHECK_THAT(info.Stderr(), Catch::Contains("device 0 is rcuda's TEST backend"));
  auto line = info.Line("MEMINFO");
  REQUIRE(line);
  uint64_t free = 0, total = 0;
  std::istringstream(line->substr(8)) >> free >> total;
  CHECK(total == options.test_memory);
  CHECK(free <= total);

  // The logs: the daemon's, and the fake driver's in each worker.
  CHECK(server.WaitForLogLine({"with the test backend", "TEST BACKEND"}, milliseconds(5000)));
  CHECK(server.WaitForLogLine({"[rcuda FAKE libcuda.so.1, TEST EQUIPMENT]", "not a GPU", "1 device(s) of 3221225472"},
                              milliseconds(5000)));
}

TEST_CASE("the test backend without its fake driver refuses to start, naming where it looked",
          "[test_backend_no_driver]") {
  TestServer::Options options;
  options.extra_args = {"--test-driver", "/nonexistent/rcuda-fake/libcuda.so.1"};
  TestServer server(options);
  CHECK_FALSE(server.started());
  CHECK_THAT(server.Log(), Catch::Contains("fake CUDA driver (TEST EQUIPMENT) is not at "
                                           "'/nonexistent/rcuda-fake/libcuda.so.1'"));
}

TEST_CASE("--test-driver reaches the workers: a session runs on the driver it names", "[test_backend_driver_path]") {
  // A copy of the fake in a directory of its own, so that the workers' maps
  // tell it from the build tree's.
  char dir_template[] = "/tmp/rcuda-test-driver-XXXXXX";
  REQUIRE(mkdtemp(dir_template));
  const std::filesystem::path dir = dir_template;
  const std::string driver = (dir / "libcuda.so.1").string();
  std::filesystem::copy_file(BuildPaths::FakeDriverDir() + "/libcuda.so.1", driver);
  {
    TestServer::Options options;
    options.extra_args = {"--test-driver", driver};
    TestServer server(options);
    INFO("server log:\n" << server.Log());
    REQUIRE(server.started());
    RawClient c;
    REQUIRE(c.Connect(server.port()).ok());
    const wire::Reply* reply = nullptr;
    REQUIRE(c.Hello(HelloFields{}, &reply).ok());
    REQUIRE(reply->body_as_HelloReply());
    REQUIRE(reply->body_as_HelloReply()->accepted());
    REQUIRE(WaitUntil([&] { return server.Sessions().size() == 1; }, milliseconds(5000)));
    const pid_t worker = server.Sessions()[0].worker_pid;
    CHECK_THAT(ReadFile("/proc/" + std::to_string(worker) + "/maps"), Catch::Contains(driver));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rcuda::itest
