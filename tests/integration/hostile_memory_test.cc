// Hostile tenants and memory: a lease's GPU memory is its grant
// however many sessions its token opens and whatever the session asks for
// (pitched allocations, module globals, device limits, pools), and one
// session cannot take the worker's host memory or threads (pinned copy
// buffers, graph staging, module images, strided copies, handles). Run on
// both backends (kBackends): the test backend and the CUDA backend, both the
// CUDA executor on the fake libcuda.so.1 (TEST EQUIPMENT).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "hostile_support.h"
#include "protocol/call_ops.h"

namespace rcuda::itest {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr int kMemoryAllocation = 2;   // cudaErrorMemoryAllocation
constexpr int kNotSupported = 801;     // cudaErrorNotSupported
constexpr uint32_t Op(CallOp op) { return static_cast<uint32_t>(op); }

// A server that requires lease tokens signed with a key of its own.
class LeaseServer {
 public:
  explicit LeaseServer(const std::string& backend) {
    key_file_ = std::filesystem::temp_directory_path().string() + "/rcuda-hostile-lease-" +
                std::to_string(getpid()) + "-" + backend;
    std::ofstream(key_file_) << key_ << "\n";
    TestServer::Options options;
    options.backend = backend;
    options.extra_args = {"--auth-key-file", key_file_, "--node-name", "hostile-node"};
    server_ = std::make_unique<TestServer>(options);
  }
  ~LeaseServer() { std::filesystem::remove(key_file_); }
  TestServer& server() { return *server_; }
  HelloFields Fields(const std::string& lease, uint64_t grant) const {
    HelloFields fields;
    fields.token = LeaseToken(key_, lease, "hostile-node", server_->port(), grant);
    return fields;
  }

 private:
  const std::string key_ = "hostile-memory-test-key-0123456789";
  std::string key_file_;
  std::unique_ptr<TestServer> server_;
};

int Allocate(RawClient& c, const TestServer& server, uint64_t bytes, uint64_t* ptr = nullptr) {
  const wire::Reply* r = RequireCall(c, server, wire::Request::MemAlloc, [&](flatbuffers::FlatBufferBuilder& b) {
    return wire::CreateMemAlloc(b, bytes).Union();
  });
  if (ptr && r->body_as_MemAllocReply()) *ptr = r->body_as_MemAllocReply()->ptr();
  return r->error();
}

int AllocatePitch(RawClient& c, const TestServer& server, uint64_t width, uint64_t height) {
  return RequireCall(c, server, wire::Request::MallocPitch, [&](flatbuffers::FlatBufferBuilder& b) {
           return wire::CreateMallocPitch(b, width, height).Union();
         })->error();
}

void MemInfo(RawClient& c, const TestServer& server, uint64_t* free, uint64_t* total) {
  const wire::Reply* r = RequireCall(c, server, wire::Request::MemGetInfo, [](flatbuffers::FlatBufferBuilder& b) {
    return wire::CreateMemGetInfo(b).Union();
  });
  REQUIRE(r->error() == 0);
  REQUIRE(r->body_as_MemGetInfoReply());
  *free = r->body_as_MemGetInfoReply()->free();
  *total = r->body_as_MemGetInfoReply()->total();
}

}  // namespace

TEST_CASE("a lease's grant holds across its sessions and for everything that takes GPU memory", "[hostile_lease]") {
  for (const char* backend : kBackends) {
    INFO("backend " << backend);
    LeaseServer leases(backend);
    TestServer& server = leases.server();
    INFO("server log:\n" << server.Log());
    REQUIRE(server.started());
    const uint64_t grant = 64 * kMiB;
    const uint64_t resident = DaemonResident(server);

    // One token, two sessions (one over each transport): one grant.
    RawClient first, second;
    RequireOpen(first, server, Via::kTcp, leases.Fields("lease-a", grant));
    RequireOpen(second, server, Via::kShm, leases.Fields("lease-a", grant));
    CHECK(Allocate(first, server, 48 * kMiB) == 0);
    CHECK(Allocate(second, server, 32 * kMiB) == kMemoryAllocation);
    uint64_t free = 0, total = 0;
    MemInfo(second, server, &free, &total);
    CHECK(total == grant);
    CHECK(free <= 16 * kMiB);
    // A session's end gives its share back.
    const size_t sessions = server.Sessions().size();
    first = RawClient();
    REQUIRE(WaitUntil([&] { return server.Sessions().size() == sessions - 1; }, milliseconds(10000)));
    uint64_t block = 0;
    CHECK(Allocate(second, server, 32 * kMiB, &block) == 0);

    // A pitched allocation is charged by its pitch, and a size that
    // overflows is no size (before: width * height, wrapping).
    {
      RawClient pitched;
      RequireOpen(pitched, server, Via::kShm, leases.Fields("lease-pitch", grant));
      CHECK(AllocatePitch(pitched, server, 1, 1 << 20) == kMemoryAllocation);  // 1 Mi rows of >= 512 bytes
      CHECK(AllocatePitch(pitched, server, 1ull << 33, 1ull << 33) == kMemoryAllocation);
      CHECK(AllocatePitch(pitched, server, 1000, 100) == 0);
    }

    // CUDA arrays and mipmapped arrays are charged by their size (a
    // mipmapped array: the sum of its levels), and given back when freed.
    {
      RawClient arrays;
      RequireOpen(arrays, server, Via::kTcp, leases.Fields("lease-arrays", grant));
      auto create = [&](CallOp op, std::vector<int64_t> args, int64_t* handle) {
        const wire::Reply* r = RequireGenericCall(arrays, server, Op(op), std::move(args));
        if (r->error() == 0) {
          REQUIRE(r->body_as_CallReply());
          REQUIRE(r->body_as_CallReply()->values()->size() == 1);
          *handle = r->body_as_CallReply()->values()->Get(0);
        }
        return r->error();
      };
      constexpr int64_t kFloat = 0x20;
      int64_t array = 0, mipmap = 0;
      // 4096 x 4097 floats: just over the grant.
      CHECK(create(CallOp::kArrayCreate, {4096, 4097, 0, kFloat, 1, 0}, &array) == kMemoryAllocation);
      // 2048 x 2048 floats in 12 levels: 16 MiB at level 0, 21.3 MiB in all;
      // then 4096 x 2800 floats (43.75 MiB) would fit beside level 0 alone.
      CHECK(create(CallOp::kMipmappedArrayCreate, {2048, 2048, 0, kFloat, 1, 0, 12}, &mipmap) == 0);
      CHECK(create(CallOp::kArrayCreate, {4096, 2800, 0, kFloat, 1, 0}, &array) == kMemoryAllocation);
      CHECK(RequireGenericCall(arrays, server, Op(CallOp::kMipmappedArrayDestroy), {mipmap})->error() == 0);
      CHECK(create(CallOp::kArrayCreate, {4096, 2800, 0, kFloat, 1, 0}, &array) == 0);
      CHECK(RequireGenericCall(arrays, server, Op(CallOp::kArrayDestroy), {array})->error() == 0);
    }

    // Device limits that reserve memory: the malloc heap, the stack of
    // every thread the GPU holds (4 SMs of 2048 threads on both test GPUs).
    auto set_limit = [&](int64_t limit, int64_t value) {
      return RequireGenericCall(second, server, Op(CallOp::kDeviceSetLimit), {limit, value})->error();
    };
    CHECK(set_limit(2, 128 * kMiB) == kMemoryAllocation);
    CHECK(set_limit(0, 64 << 10) == kMemoryAllocation);  // 64 KiB * 8192 threads = 512 MiB
    CHECK(set_limit(2, 8 * kMiB) == 0);

    // Module globals: hostile_kernels.cu holds 4 MiB of them.
    {
      RawClient small;
      RequireOpen(small, server, Via::kShm, leases.Fields("lease-small", 2 * kMiB));
      LoadedKernels kernels;
      CHECK(LoadHostileKernels(small, server, 1, &kernels) == kMemoryAllocation);
      RequireSessionWorks(small, server, 4096);
    }

    // Pools live on the session's GPU whatever location the client names,
    // never on the host.
    auto create_pool = [&](int64_t type, int64_t id) {
      return RequireGenericCall(second, server, Op(CallOp::kMemPoolCreate), {type, id, 1, 0})->error();
    };
    CHECK(create_pool(1, 5) == 0);
    CHECK(create_pool(2, 0) == kNotSupported);

    // A pool keeps freed memory reserved until it trims: still charged.
    {
      RawClient pooled;
      RequireOpen(pooled, server, Via::kTcp, leases.Fields("lease-pool", grant));
      uint64_t free_before = 0;
      MemInfo(pooled, server, &free_before, &total);
      const wire::Reply* r = RequireGenericCall(pooled, server, Op(CallOp::kDeviceGetDefaultMemPool), {});
      REQUIRE(r->body_as_CallReply());
      REQUIRE(r->body_as_CallReply()->values()->size() == 1);
      const int64_t pool = r->body_as_CallReply()->values()->Get(0);
      constexpr int64_t kReleaseThreshold = 4;
      CHECK(RequireGenericCall(pooled, server, Op(CallOp::kMemPoolSetAttribute), {pool, kReleaseThreshold, INT64_MAX})
                ->error() == 0);
      r = RequireGenericCall(pooled, server, Op(CallOp::kMallocAsync), {int64_t(48 * kMiB), 0, 0});
      REQUIRE(r->error() == 0);
      const int64_t ptr = r->body_as_CallReply()->values()->Get(0);
      REQUIRE(pooled.Send(wire::Request::Call, [&](flatbuffers::FlatBufferBuilder& b) {
                std::vector<int64_t> args = {ptr, 0};
                return wire::CreateCallDirect(b, Op(CallOp::kFreeAsync), &args).Union();
              }).ok());
      CHECK(RequireSync(pooled, server)->async_error() == 0);
      CHECK(Allocate(pooled, server, 48 * kMiB) == kMemoryAllocation);
      CHECK(RequireGenericCall(pooled, server, Op(CallOp::kMemPoolTrimTo), {pool, 0})->error() == 0);
      uint64_t again = 0;
      CHECK(Allocate(pooled, server, 48 * kMiB, &again) == 0);
      CHECK(RequireCall(pooled, server, wire::Request::MemFree, [&](flatbuffers::FlatBufferBuilder& b) {
              return wire::CreateMemFree(b, again).Union();
            })->error() == 0);
      // Everything given back: the session sees what it saw at first.
      uint64_t free_after = 0;
      MemInfo(pooled, server, &free_after, &total);
      CHECK(free_after == free_before);
    }

    RequireSessionWorks(second, server, 4096);
    REQUIRE(server.Alive());
    CheckDaemonResidentNear(server, resident);
  }
}

// ---- Host memory and threads of one session ----------------------------------------

namespace {

// The ModuleLoad frame of a fatbinary of `announced` bytes, of which only
// `sent` follow.
void SendPartialModule(RawClient& c, uint64_t announced, uint64_t sent) {
  flatbuffers::FlatBufferBuilder b;
  auto body = wire::CreateModuleLoadDirect(b, 1, nullptr, nullptr);
  b.Finish(wire::CreateMessage(b, c.next_id(), wire::Request::ModuleLoad, body.Union()));
  c.set_next_id(c.next_id() + 1);
  std::vector<uint8_t> part(sent, 0x5a);
  REQUIRE(WriteFrameStart(c.connection(), std::span(b.GetBufferPointer(), b.GetSize()), announced,
                          ConstBuffer{part.data(), part.size()})
              .ok());
}

// A packed strided copy (pitch = width, slice = height rows) on both sides.
flatbuffers::Offset<wire::Memcpy3D> Strided(flatbuffers::FlatBufferBuilder& b, wire::CopyDirection direction,
                                            uint64_t dst, uint64_t src, uint64_t width, uint64_t height,
                                            uint64_t depth, uint64_t stream = 0, uint64_t pending = 0) {
  return wire::CreateMemcpy3D(b, direction, dst, width, height, src, width, height, width, height, depth, stream,
                              pending);
}

}  // namespace

TEST_CASE("one session cannot take the worker's host memory or threads", "[hostile_host]") {
  for (const char* backend : kBackends) {
    INFO("backend " << backend);
    TestServer::Options options;
    options.backend = backend;
    options.extra_args = {"--session-host-staging", std::to_string(32 * kMiB)};
    TestServer server(options);
    INFO("server log:\n" << server.Log());
    REQUIRE(server.started());
    RawClient bystander;
    RequireOpen(bystander, server, Via::kTcp);
    const uint64_t resident = DaemonResident(server);

    RawClient c;
    const uint64_t before = LastSessionId(server);
    RequireOpen(c, server, Via::kShm);
    const pid_t worker = WorkerOfNewSession(server, before);
    REQUIRE(worker > 0);
    uint64_t free_at_start = 0, total = 0;
    MemInfo(c, server, &free_at_start, &total);
    uint64_t block = 0;
    REQUIRE(Allocate(c, server, 16 * kMiB, &block) == 0);
    const uint64_t worker_resident = ResidentBytes(worker);

    // Graph staging: ten host-to-device nodes of 16 MiB each (all onto the
    // same block) need 160 MiB of host staging; the session has 32.
    auto instantiate = [&](int nodes) {
      return RequireCall(c, server, wire::Request::GraphInstantiate, [&](flatbuffers::FlatBufferBuilder& b) {
        std::vector<flatbuffers::Offset<wire::GraphNode>> list;
        for (int i = 0; i < nodes; ++i) {
          auto table = Strided(b, wire::CopyDirection::HostToDevice, block, 0, 16 * kMiB, 1, 1);
          wire::GraphNodeBuilder node(b);
          node.add_type(wire::GraphNodeType::Memcpy);
          node.add_copy(table);
          list.push_back(node.Finish());
        }
        return wire::CreateGraphInstantiateDirect(b, &list).Union();
      });
    };
    CHECK(instantiate(10)->error() == kMemoryAllocation);
    CHECK(instantiate(1)->error() == 0);

    // A module image announced at 1 GiB of which 1 MiB arrives: memory is
    // taken as bytes arrive, not zero-filled up front.
    {
      RawClient loader;
      const uint64_t sessions = LastSessionId(server);
      RequireOpen(loader, server, Via::kShm);
      const pid_t loader_worker = WorkerOfNewSession(server, sessions);
      REQUIRE(loader_worker > 0);
      const uint64_t base = ResidentBytes(loader_worker);
      SendPartialModule(loader, 1ull << 30, kMiB);
      CHECK_FALSE(WaitUntil([&] { return ResidentBytes(loader_worker) > base + ResidentGrowthBound(64 * kMiB); }, milliseconds(1500)));
    }
    {
      RawClient loader;
      RequireOpen(loader, server, Via::kTcp);
      SendPartialModule(loader, 2ull << 30, 0);  // beyond any fatbinary
      CHECK(loader.WaitClosed(milliseconds(10000)));
    }

    // Streams, events, graphs and pools: at most 16384 live (counted by the
    // session, whatever the executor: checked once).
    int created = 0, refused = 0;
    for (int i = 0; i < 16400 && refused == 0 && std::string(backend) == "test"; ++i) {
      const wire::Reply* r = RequireCall(c, server, wire::Request::EventCreate, [](flatbuffers::FlatBufferBuilder& b) {
        return wire::CreateEventCreate(b, 0).Union();
      });
      (r->error() == 0 ? created : refused)++;
      if (refused) CHECK(r->error() == kMemoryAllocation);
    }
    if (std::string(backend) == "test") {
      CHECK(refused == 1);
      CHECK(created == 16384 - 1);  // the live graph holds a place
    }

    CHECK(ResidentBytes(worker) < worker_resident + ResidentGrowthBound(128 * kMiB));
    RequireSessionWorks(c, server);
    uint64_t free_now = 0;
    MemInfo(c, server, &free_now, &total);
    CHECK(free_now == free_at_start - 16 * kMiB);
    RequireSessionWorks(bystander, server);
    RequireFreshSessionsWork(server);
    CheckDaemonResidentNear(server, resident);
  }
}

TEST_CASE("copies that wait and strided copies stay within the session's host budget and threads",
          "[hostile_host_cuda]") {
  // Once: both backends are the CUDA executor on the fake driver.
  TestServer::Options options;
  options.backend = "cuda";
  options.extra_args = {"--session-host-staging", std::to_string(32 * kMiB)};
  TestServer server(options);
  INFO("server log:\n" << server.Log());
  REQUIRE(server.started());
  RawClient bystander;
  RequireOpen(bystander, server, Via::kTcp);
  const uint64_t resident = DaemonResident(server);

  RawClient c;
  const uint64_t before = LastSessionId(server);
  const std::string key = RequireOpenWithKey(c, server, Via::kShm);
  const pid_t worker = WorkerOfNewSession(server, before);
  REQUIRE(worker > 0);
  RawHostChannel channel;
  REQUIRE(channel.Open(server, Via::kShm, key).ok());
  LoadedKernels kernels;
  REQUIRE(LoadHostileKernels(c, server, 1, &kernels) == 0);
  const uint64_t bytes = 8 * kMiB;
  uint64_t block = 0;
  REQUIRE(Allocate(c, server, bytes, &block) == 0);
  std::vector<uint8_t> pattern(bytes);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7 + i / 4099);
  REQUIRE(c.Send(wire::Request::MemcpyHtoD, [&](flatbuffers::FlatBufferBuilder& b) {
            return wire::CreateMemcpyHtoD(b, block, bytes, 0).Union();
          }, pattern).ok());
  const wire::Reply* r = RequireCall(c, server, wire::Request::StreamCreate, [](flatbuffers::FlatBufferBuilder& b) {
    return wire::CreateStreamCreate(b, 1, 0).Union();
  });
  REQUIRE(r->error() == 0);
  const uint64_t stream = r->body_as_HandleReply()->handle();
  REQUIRE(RequireSync(c, server)->async_error() == 0);
  const int threads = ThreadCount(worker);
  const uint64_t worker_resident = ResidentBytes(worker);
  auto busy = [&](int64_t ns) {
    SendLaunch(c, kernels.sleep, std::span(reinterpret_cast<const uint8_t*>(&ns), sizeof ns), stream);
  };

  // Behind a busy stream: 40 synchronizations and 40 copies of 4 MiB, each
  // of which used to get its own thread and pinned buffer.
  busy(1500000000);
  const int n = 40;
  std::vector<uint64_t> copy_ids;
  for (int i = 0; i < n; ++i) {
    REQUIRE(c.Send(wire::Request::StreamSynchronize, [&](flatbuffers::FlatBufferBuilder& b) {
              return wire::CreateStreamSynchronize(b, stream).Union();
            }).ok());
    copy_ids.push_back(c.next_id());
    REQUIRE(c.Send(wire::Request::MemcpyDtoH, [&](flatbuffers::FlatBufferBuilder& b) {
              return wire::CreateMemcpyDtoH(b, block, 4 * kMiB, stream).Union();
            }).ok());
  }
  CHECK_FALSE(WaitUntil([&] { return ThreadCount(worker) > threads + 32 + 4; }, milliseconds(1000)));
  int copies_right = 0;
  for (int i = 0; i < 2 * n; ++i) {
    std::vector<uint8_t> data;
    r = nullptr;
    Status s = c.Receive(&r, &data);
    REQUIRE(s.ok());
    CHECK(r->error() == 0);
    if (std::find(copy_ids.begin(), copy_ids.end(), r->id()) != copy_ids.end()) {
      copies_right += data.size() == 4 * kMiB && std::equal(data.begin(), data.end(), pattern.begin());
    }
  }
  CHECK(copies_right == n);
  INFO("worker resident: " << (worker_resident >> 20) << " MiB before, " << (ResidentBytes(worker) >> 20) << " after");
  CHECK(ResidentBytes(worker) < worker_resident + ResidentGrowthBound(64 * kMiB));

  // Asynchronous strided copies to the host channel behind a busy stream:
  // each used to pin a buffer of its own until delivered.
  busy(1000000000);
  const int m = 20;
  for (int i = 0; i < m; ++i) {
    REQUIRE(c.Send(wire::Request::Memcpy3D, [&](flatbuffers::FlatBufferBuilder& b) {
              return Strided(b, wire::CopyDirection::DeviceToHost, 0, block, bytes, 1, 1, stream, i + 1).Union();
            }).ok());
  }
  REQUIRE(RequireSync(c, server)->async_error() == 0);
  auto deliveries = channel.Deliveries();
  REQUIRE(deliveries.size() == static_cast<size_t>(m));
  for (int i = 0; i < m; ++i) {
    CHECK(deliveries[i].first == static_cast<uint64_t>(i + 1));  // in stream order
    CHECK(deliveries[i].second == pattern);
  }
  INFO("worker resident: " << (worker_resident >> 20) << " MiB before, " << (ResidentBytes(worker) >> 20) << " after");
  CHECK(ResidentBytes(worker) < worker_resident + ResidentGrowthBound(64 * kMiB));
  RequireSessionWorks(c, server);

  // A strided copy of 16 Mi one-byte rows: its pieces are walked, never
  // listed (the list took 40 bytes each).
  REQUIRE(c.Send(wire::Request::Memcpy3D, [&](flatbuffers::FlatBufferBuilder& b) {
            return Strided(b, wire::CopyDirection::DeviceToHost, 0, block, 1, 1, 8 * kMiB).Union();
          }).ok());
  CHECK_FALSE(WaitUntil([&] { return ResidentBytes(worker) > worker_resident + ResidentGrowthBound(192 * kMiB); }, milliseconds(2000)));
  // Its client leaves in the middle: the worker ends.
  c = RawClient();
  CHECK(WaitUntil([&] { return !ProcessExists(worker); }, milliseconds(20000)));

  RequireSessionWorks(bystander, server);
  RequireFreshSessionsWork(server);
  CheckDaemonResidentNear(server, resident);
}

}  // namespace rcuda::itest
