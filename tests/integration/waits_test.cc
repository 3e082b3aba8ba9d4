// Synchronizing requests on the worker (SessionWorker::WaitThenReply,
// server/cuda_executor_waits.cc), counted on the fake libcuda.so.1 (TEST
// EQUIPMENT) with RCUDA_FAKE_DRIVER_CALL_COUNTS (tests/fake_driver/
// call_counts.h):
//   - a synchronization whose work is done costs the worker one driver call,
//     as the program's call costs natively;
//   - after stream-ordered frees it still makes the synchronizing call, so
//     that the pool releases what it holds above its release threshold;
//   - a synchronization that must wait does so on blocking-sync events: no
//     wait that would spin a core on a GPU.
#include <unistd.h>

#include <filesystem>

#include "hostile_support.h"
#include "protocol/call_ops.h"
#include "tests/fake_driver/call_counts.h"

namespace rcuda::itest {
namespace {

constexpr uint32_t Op(CallOp op) { return static_cast<uint32_t>(op); }
constexpr int64_t kPoolReservedMemCurrent = 5;  // cudaMemPoolAttrReservedMemCurrent
constexpr uint32_t kStreamNonBlocking = 1;
constexpr uint32_t kEventDisableTiming = 2;

// A test server whose fake driver counts its calls, and one session on it.
class CountedSession {
 public:
  CountedSession() {
    dir_ = std::filesystem::temp_directory_path().string() + "/rcuda-waits-" + std::to_string(getpid()) + "-" +
           std::to_string(++instances_);
    std::filesystem::create_directories(dir_);
    TestServer::Options options;
    options.env = {std::string(fake::kCallCountsEnv) + "=" + dir_};
    server_ = std::make_unique<TestServer>(options);
    REQUIRE(server_->started());
    const uint64_t last = LastSessionId(*server_);
    RequireOpen(client_, *server_, Via::kTcp);
    worker_ = WorkerOfNewSession(*server_, last);
    REQUIRE(worker_ > 0);
  }
  ~CountedSession() {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  RawClient& client() { return client_; }
  TestServer& server() { return *server_; }

  std::map<std::string, uint64_t> Counts() {
    std::map<std::string, uint64_t> counts;
    INFO("call counts of worker " << worker_ << " in " << dir_);
    REQUIRE(fake::ReadCallCounts(dir_, worker_, &counts));
    return counts;
  }
  // Driver calls the worker made in all.
  uint64_t Calls() {
    uint64_t total = 0;
    for (const auto& [name, n] : Counts())
      if (name.rfind("cu", 0) == 0) total += n;
    return total;
  }

  uint64_t CreateStream(uint32_t flags) {
    const wire::Reply* r = RequireCall(client_, *server_, wire::Request::StreamCreate,
                                       [&](flatbuffers::FlatBufferBuilder& b) {
                                         return wire::CreateStreamCreate(b, flags, 0).Union();
                                       });
    REQUIRE(r->error() == 0);
    return r->body_as_HandleReply()->handle();
  }
  uint64_t CreateEvent(uint32_t flags) {
    const wire::Reply* r = RequireCall(client_, *server_, wire::Request::EventCreate,
                                       [&](flatbuffers::FlatBufferBuilder& b) {
                                         return wire::CreateEventCreate(b, flags).Union();
                                       });
    REQUIRE(r->error() == 0);
    return r->body_as_HandleReply()->handle();
  }
  void RecordEvent(uint64_t event, uint64_t stream) {
    REQUIRE(client_.Send(wire::Request::EventRecord, [&](flatbuffers::FlatBufferBuilder& b) {
                      return wire::CreateEventRecord(b, event, stream, 0).Union();
                    }).ok());
  }
  int SyncStream(uint64_t stream) {
    return RequireCall(client_, *server_, wire::Request::StreamSynchronize, [&](flatbuffers::FlatBufferBuilder& b) {
             return wire::CreateStreamSynchronize(b, stream).Union();
           })->error();
  }
  int SyncEvent(uint64_t event) {
    return RequireCall(client_, *server_, wire::Request::EventSynchronize, [&](flatbuffers::FlatBufferBuilder& b) {
             return wire::CreateEventSynchronize(b, event).Union();
           })->error();
  }
  int SyncDevice() { return RequireSync(client_, *server_)->error(); }

 private:
  static inline int instances_ = 0;
  std::string dir_;
  std::unique_ptr<TestServer> server_;
  RawClient client_;
  pid_t worker_ = -1;
};

}  // namespace

TEST_CASE("a synchronization whose work is done costs the worker one driver call", "[waits_calls]") {
  CountedSession session;
  const uint64_t stream = session.CreateStream(kStreamNonBlocking);
  const uint64_t event = session.CreateEvent(kEventDisableTiming);
  session.RecordEvent(event, stream);
  // Everything done before counting: each measured request finds idle work.
  REQUIRE(session.SyncDevice() == 0);
  REQUIRE(session.SyncStream(stream) == 0);

  uint64_t before = session.Calls();
  CHECK(session.SyncStream(stream) == 0);
  CHECK(session.Calls() - before == 1);

  before = session.Calls();
  CHECK(session.SyncStream(0) == 0);  // the legacy default stream
  CHECK(session.Calls() - before == 1);

  before = session.Calls();
  CHECK(session.SyncEvent(event) == 0);
  CHECK(session.Calls() - before == 1);

  // Errors still come from the driver's answer: an unknown stream is refused
  // by the worker without a call.
  before = session.Calls();
  CHECK(session.SyncStream(0xdead) != 0);
  CHECK(session.Calls() - before == 0);
}

TEST_CASE("after stream-ordered frees a synchronization still lets the pool release", "[waits_pool_release]") {
  CountedSession session;
  RawClient& c = session.client();
  const uint64_t stream = session.CreateStream(kStreamNonBlocking);
  const wire::Reply* r = RequireGenericCall(c, session.server(), Op(CallOp::kDeviceGetDefaultMemPool), {});
  REQUIRE(r->body_as_CallReply());
  REQUIRE(r->body_as_CallReply()->values()->size() == 1);
  const int64_t pool = r->body_as_CallReply()->values()->Get(0);
  auto reserved = [&] {
    const wire::Reply* got =
        RequireGenericCall(c, session.server(), Op(CallOp::kMemPoolGetAttribute), {pool, kPoolReservedMemCurrent});
    REQUIRE(got->error() == 0);
    return got->body_as_CallReply()->values()->Get(0);
  };
  for (int round = 0; round < 3; ++round) {
    r = RequireGenericCall(c, session.server(), Op(CallOp::kMallocAsync), {int64_t(1) << 20, int64_t(stream), 0});
    REQUIRE(r->error() == 0);
    const int64_t ptr = r->body_as_CallReply()->values()->Get(0);
    REQUIRE(c.Send(wire::Request::Call, [&](flatbuffers::FlatBufferBuilder& b) {
               std::vector<int64_t> args = {ptr, int64_t(stream)};
               return wire::CreateCallDirect(b, Op(CallOp::kFreeAsync), &args).Union();
             }).ok());
    // The release threshold is 0: the synchronization gives the block back
    // (the fake, like the driver, releases at synchronizing calls only).
    auto counts = session.Counts();
    const uint64_t before = counts["cuStreamSynchronize"] + counts["cuEventSynchronize"];
    CHECK(session.SyncStream(stream) == 0);
    CHECK(reserved() == 0);
    // ... which took a synchronizing call: the stream's, or when the free
    // was still queued at the look, the wait pool's on its event.
    counts = session.Counts();
    CHECK(counts["cuStreamSynchronize"] + counts["cuEventSynchronize"] > before);
  }
  // Once a synchronization found the session idle (this one, or the one
  // above if it found the work done), one call again.
  CHECK(session.SyncStream(stream) == 0);
  const uint64_t before = session.Calls();
  CHECK(session.SyncStream(stream) == 0);
  CHECK(session.Calls() - before == 1);
}

TEST_CASE("after a launch a synchronization whose work is done still makes the synchronizing call",
          "[waits_after_launch]") {
  // The driver writes the kernels' printf output at synchronizing calls
  // only, never at a query (server/device_output.h).
  CountedSession session;
  RawClient& c = session.client();
  LoadedKernels kernels;
  REQUIRE(LoadHostileKernels(c, session.server(), 1, &kernels) == 0);
  const uint64_t stream = session.CreateStream(kStreamNonBlocking);
  REQUIRE(session.SyncDevice() == 0);
  const int64_t no_time = 0;
  for (int round = 0; round < 3; ++round) {
    SendLaunch(c, kernels.sleep, std::span(reinterpret_cast<const uint8_t*>(&no_time), sizeof no_time), stream);
    auto counts = session.Counts();
    const uint64_t before = counts["cuStreamSynchronize"] + counts["cuEventSynchronize"];
    CHECK(session.SyncStream(stream) == 0);
    counts = session.Counts();
    CHECK(counts["cuStreamSynchronize"] + counts["cuEventSynchronize"] > before);
  }
  // No launch since: the query alone again.
  const uint64_t before = session.Calls();
  CHECK(session.SyncStream(stream) == 0);
  CHECK(session.Calls() - before == 1);
}

TEST_CASE("a synchronization that must wait sleeps on a blocking event", "[waits_blocking]") {
  CountedSession session;
  RawClient& c = session.client();
  LoadedKernels kernels;
  REQUIRE(LoadHostileKernels(c, session.server(), 1, &kernels) == 0);
  const uint64_t stream = session.CreateStream(kStreamNonBlocking);
  const uint64_t event = session.CreateEvent(kEventDisableTiming);  // an ordinary event: spins natively
  REQUIRE(session.SyncDevice() == 0);
  auto busy = [&](uint64_t on, int64_t ns) {
    SendLaunch(c, kernels.sleep, std::span(reinterpret_cast<const uint8_t*>(&ns), sizeof ns), on);
  };
  constexpr int64_t kLong = 300'000'000;  // 300 ms: far beyond the worker's short look

  auto counts = session.Counts();
  busy(stream, kLong);
  CHECK(session.SyncStream(stream) == 0);
  auto after = session.Counts();
  CHECK(after["blocking waits"] > counts["blocking waits"]);
  CHECK(after["spinning waits"] == counts["spinning waits"]);

  counts = after;
  busy(stream, kLong);
  session.RecordEvent(event, stream);
  CHECK(session.SyncEvent(event) == 0);
  after = session.Counts();
  CHECK(after["blocking waits"] > counts["blocking waits"]);
  CHECK(after["spinning waits"] == counts["spinning waits"]);

  // The device: the legacy stream and a non-blocking stream both busy.
  counts = after;
  busy(0, kLong);
  busy(stream, kLong);
  CHECK(session.SyncDevice() == 0);
  after = session.Counts();
  CHECK(after["blocking waits"] > counts["blocking waits"]);
  CHECK(after["spinning waits"] == counts["spinning waits"]);

  // The events went back to the session's cache: the next waits reuse them.
  counts = after;
  busy(stream, kLong);
  CHECK(session.SyncStream(stream) == 0);
  after = session.Counts();
  CHECK(after["cuEventCreate"] == counts["cuEventCreate"]);
}

}  // namespace rcuda::itest
