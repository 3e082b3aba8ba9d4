// Hostile tenants and their own worker: no request makes a worker
// run forever or outlive its client (empty strided regions of endless depth,
// a reset behind a kernel that never ends, a client that stays connected
// and does nothing), and nothing of an unloaded module stays usable. On
// both backends (kBackends): the test backend and the CUDA backend, both the
// CUDA executor on the fake libcuda.so.1 (TEST EQUIPMENT).
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/cuda_error_codes.h"
#include "hostile_support.h"

namespace rcuda::itest {
namespace {

constexpr int kInvalidValue = kCudaErrorInvalidValue;
constexpr int kInvalidResourceHandle = kCudaErrorInvalidResourceHandle;

// Keeps a session working (a request every 200 ms, on a thread of its own)
// until destroyed; counts requests that failed.
class KeepWorking {
 public:
  explicit KeepWorking(RawClient& c) : c_(c), thread_([this] { Loop(); }) {}
  ~KeepWorking() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  int failures() const { return failures_.load(); }
  int requests() const { return requests_.load(); }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, milliseconds(200), [&] { return stop_; })) {
      const wire::Reply* r = nullptr;
      Status s = c_.Send(wire::Request::MemGetInfo,
                         [](flatbuffers::FlatBufferBuilder& b) { return wire::CreateMemGetInfo(b).Union(); });
      if (s.ok()) s = c_.Receive(&r, nullptr, milliseconds(10000));
      ++requests_;
      if (!s.ok() || r->error() != 0) ++failures_;
    }
  }

  RawClient& c_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<int> failures_{0}, requests_{0};
  std::thread thread_;
};

}  // namespace

TEST_CASE("no request keeps a worker busy forever or alive after its client", "[hostile_endless]") {
  for (const char* backend : kBackends) {
    INFO("backend " << backend);
    TestServer::Options options;
    options.backend = backend;
    options.extra_args = {"--session-idle-timeout", "3"};
    TestServer server(options);
    INFO("server log:\n" << server.Log());
    REQUIRE(server.started());
    RawClient bystander;
    RequireOpen(bystander, server, Via::kTcp);
    const uint64_t resident = DaemonResident(server);
    // An active session throughout: never idle, never ended.
    KeepWorking working(bystander);

    // Strided memsets and copies of an empty region with a depth of 2^62
    // (before: the ownership check let them through and the executor
    // looped over every empty slice).
    {
      RawClient c;
      RequireOpen(c, server, Via::kShm);
      const uint64_t wild = 0x7ff000000000ull;
      REQUIRE(c.Send(wire::Request::Memset3D, [&](flatbuffers::FlatBufferBuilder& b) {
                return wire::CreateMemset3D(b, wild, 1, 1, 0, /*width=*/0, 1, 1ull << 62).Union();
              }).ok());
      REQUIRE(c.Send(wire::Request::Memcpy3D, [&](flatbuffers::FlatBufferBuilder& b) {
                return wire::CreateMemcpy3D(b, wire::CopyDirection::DeviceToDevice, wild, 1, 1, wild, 1, 1,
                                            /*width=*/0, 1, 1ull << 62)
                    .Union();
              }).ok());
      const wire::Reply* r = nullptr;
      REQUIRE(c.Send(wire::Request::DeviceSynchronize, [](flatbuffers::FlatBufferBuilder& b) {
                return wire::CreateDeviceSynchronize(b).Union();
              }).ok());
      Status s = c.Receive(&r, nullptr, milliseconds(10000));
      INFO(s.ToString());
      REQUIRE(s.ok());
      CHECK(r->error() == 0);
      RequireSessionWorks(c, server);
    }

    // A reset behind a kernel that never ends (an hour is never, here),
    // then the client leaves: the worker ends, and with it the kernel.
    for (Via via : {Via::kTcp, Via::kShm}) {
      INFO("over " << ViaName(via));
      RawClient c;
      const uint64_t before = LastSessionId(server);
      RequireOpen(c, server, via);
      const pid_t worker = WorkerOfNewSession(server, before);
      REQUIRE(worker > 0);
      LoadedKernels kernels;
      REQUIRE(LoadHostileKernels(c, server, 1, &kernels) == 0);
      const int64_t hour = 3600ll * 1000 * 1000 * 1000;
      SendLaunch(c, kernels.sleep, std::span(reinterpret_cast<const uint8_t*>(&hour), sizeof hour));
      REQUIRE(c.Send(wire::Request::DeviceReset, [](flatbuffers::FlatBufferBuilder& b) {
                return wire::CreateDeviceReset(b).Union();
              }).ok());
      c = RawClient();
      CHECK(WaitUntil([&] { return !ProcessExists(worker); }, milliseconds(20000)));
    }

    // A client that stays connected and sends nothing: ended after the idle
    // timeout (3 s here). One that keeps working is not.
    {
      RawClient idle, busy;
      const uint64_t before = LastSessionId(server);
      RequireOpen(idle, server, Via::kTcp);
      const pid_t idle_worker = WorkerOfNewSession(server, before);
      REQUIRE(idle_worker > 0);
      uint64_t ptr = 0;
      // The idle clock starts at the worker's receipt of this last request, so
      // any time after this point is an upper bound on how long it has been
      // idle (measuring from later, after opening `busy`, made the check flaky
      // when that open was slow).
      const auto last_request = Clock::now();
      const wire::Reply* r = RequireCall(idle, server, wire::Request::MemAlloc, [](flatbuffers::FlatBufferBuilder& b) {
        return wire::CreateMemAlloc(b, 64 << 20).Union();
      });
      REQUIRE(r->error() == 0);
      ptr = r->body_as_MemAllocReply()->ptr();
      CHECK(ptr != 0);
      RequireOpen(busy, server, Via::kShm);
      auto start = Clock::now();
      bool closed = false;
      while (!closed && Clock::now() - start < std::chrono::seconds(15)) {
        RequireSessionWorks(busy, server);
        closed = idle.WaitClosed(milliseconds(300));
      }
      CHECK(closed);
      CHECK(Clock::now() - last_request >= std::chrono::milliseconds(2500));
      CHECK(WaitUntil([&] { return !ProcessExists(idle_worker); }, milliseconds(10000)));
      CHECK(server.WaitForLogLine({"idle for", "--session-idle-timeout"}, milliseconds(5000)));
      RequireSessionWorks(busy, server);
    }

    REQUIRE(server.Alive());
    working.Stop();
    CHECK(working.requests() > 10);
    CHECK(working.failures() == 0);
    RequireSessionWorks(bystander, server);
    RequireFreshSessionsWork(server);
    CheckDaemonResidentNear(server, resident);
  }
}

TEST_CASE("nothing of an unloaded module stays usable", "[hostile_unload]") {
  for (const char* backend : kBackends) {
    INFO("backend " << backend);
    TestServer::Options options;
    options.backend = backend;
    TestServer server(options);
    INFO("server log:\n" << server.Log());
    REQUIRE(server.started());
    RawClient bystander;
    RequireOpen(bystander, server, Via::kTcp);

    RawClient c;
    RequireOpen(c, server, Via::kShm);
    LoadedKernels kernels;
    REQUIRE(LoadHostileKernels(c, server, 1, &kernels) == 0);
    const int32_t one = 1;
    const std::span<const uint8_t> bump_args(reinterpret_cast<const uint8_t*>(&one), sizeof one);
    SendLaunch(c, kernels.bump, bump_args);
    REQUIRE(RequireSync(c, server)->async_error() == 0);
    // A graph that launches one of its kernels.
    const wire::Reply* r = RequireCall(c, server, wire::Request::GraphInstantiate, [&](flatbuffers::FlatBufferBuilder& b) {
      auto params = b.CreateVector(bump_args.data(), bump_args.size());
      wire::Dim3 dim(1, 1, 1);
      wire::GraphNodeBuilder node(b);
      node.add_type(wire::GraphNodeType::Kernel);
      node.add_function(kernels.bump);
      node.add_grid(&dim);
      node.add_block(&dim);
      node.add_params(params);
      std::vector<flatbuffers::Offset<wire::GraphNode>> nodes = {node.Finish()};
      return wire::CreateGraphInstantiateDirect(b, &nodes).Union();
    });
    REQUIRE(r->error() == 0);
    const uint64_t graph = r->body_as_HandleReply()->handle();

    REQUIRE(c.Send(wire::Request::ModuleUnload, [](flatbuffers::FlatBufferBuilder& b) {
              return wire::CreateModuleUnload(b, 1).Union();
            }).ok());
    CHECK(RequireSync(c, server)->async_error() == 0);

    // Its kernels, its graph and its variables are gone.
    SendLaunch(c, kernels.bump, bump_args);
    CHECK(RequireSync(c, server)->async_error() == kInvalidResourceHandle);
    REQUIRE(c.Send(wire::Request::GraphLaunch, [&](flatbuffers::FlatBufferBuilder& b) {
              return wire::CreateGraphLaunch(b, graph, 0).Union();
            }).ok());
    CHECK(RequireSync(c, server)->async_error() == kInvalidResourceHandle);
    std::vector<uint8_t> data(16, 0xee);
    REQUIRE(c.Send(wire::Request::MemcpyHtoD, [&](flatbuffers::FlatBufferBuilder& b) {
              return wire::CreateMemcpyHtoD(b, kernels.global, data.size(), 0).Union();
            }, data).ok());
    CHECK(RequireSync(c, server)->async_error() == kInvalidValue);
    r = RequireCall(c, server, wire::Request::MemcpyDtoH, [&](flatbuffers::FlatBufferBuilder& b) {
      return wire::CreateMemcpyDtoH(b, kernels.global, 16, 0).Union();
    });
    CHECK(r->error() == kInvalidValue);
    // Unloading it again, or a module never loaded, is an error.
    REQUIRE(c.Send(wire::Request::ModuleUnload, [](flatbuffers::FlatBufferBuilder& b) {
              return wire::CreateModuleUnload(b, 1).Union();
            }).ok());
    CHECK(RequireSync(c, server)->async_error() == kInvalidResourceHandle);
    // Loaded again, it works again.
    LoadedKernels again;
    REQUIRE(LoadHostileKernels(c, server, 1, &again) == 0);
    SendLaunch(c, again.bump, bump_args);
    CHECK(RequireSync(c, server)->async_error() == 0);
    RequireSessionWorks(c, server);
    REQUIRE(server.Alive());
    RequireSessionWorks(bystander, server);
  }
}

}  // namespace rcuda::itest
