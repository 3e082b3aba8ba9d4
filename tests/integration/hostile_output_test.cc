// Hostile tenants and device output (server/device_output.h): a kernel that
// prints as much as it likes costs its worker at most the session's cap
// between two replies, the rest counted in one marker line, and a client
// that floods without ever reading a reply, then leaves, still ends its
// worker. On both backends (kBackends): the CUDA executor on the fake
// libcuda.so.1 (TEST EQUIPMENT), whose printf FIFO holds 1 MiB.
#include <string>

#include "hostile_support.h"

namespace rcuda::itest {
namespace {

constexpr int64_t kCapBytes = 4096;       // --session-device-output-kib 4
constexpr int64_t kPrinted = 512 << 10;   // per launch: within the FIFO, far beyond the cap
const std::string kLine = std::string(63, 'p') + "\n";  // hostile_print's line

void SendPrint(RawClient& c, const LoadedKernels& kernels, int64_t bytes) {
  SendLaunch(c, kernels.print, std::span(reinterpret_cast<const uint8_t*>(&bytes), sizeof bytes));
}

std::string OutputOf(const wire::Reply* r) {
  if (!r->device_output()) return "";
  return std::string(r->device_output()->begin(), r->device_output()->end());
}

}  // namespace

TEST_CASE("device output: capped per reply; a client that never reads still ends its worker",
          "[hostile_device_output]") {
  for (const char* backend : kBackends) {
    INFO("backend " << backend);
    TestServer::Options options;
    options.backend = backend;
    options.extra_args = {"--session-device-output-kib", std::to_string(kCapBytes / 1024)};
    TestServer server(options);
    INFO("server log:\n" << server.Log());
    REQUIRE(server.started());

    // The synchronization's reply carries the first 4 KiB and the marker.
    {
      RawClient c;
      RequireOpen(c, server, Via::kTcp);
      LoadedKernels kernels;
      REQUIRE(LoadHostileKernels(c, server, 1, &kernels) == 0);
      SendPrint(c, kernels, kPrinted);
      const wire::Reply* r = RequireSync(c, server);
      REQUIRE(r->error() == 0);
      const std::string output = OutputOf(r);
      std::string kept;
      while (static_cast<int64_t>(kept.size()) < kCapBytes) kept += kLine;
      REQUIRE(output.size() > kept.size());
      CHECK(output.substr(0, kept.size()) == kept);
      CHECK(output.substr(kept.size()).rfind("[rcuda: " + std::to_string(kPrinted - kCapBytes) +
                                                 " bytes of device output dropped",
                                             0) == 0);
      CHECK(output.back() == '\n');
      CHECK(output.size() < kept.size() + 256);  // one line, not the rest
      // Nothing of it is left for the next reply, and the session goes on.
      r = RequireSync(c, server);
      CHECK(r->error() == 0);
      CHECK(OutputOf(r).empty());
      SendPrint(c, kernels, 128);
      r = RequireSync(c, server);
      CHECK(OutputOf(r) == kLine + kLine);
    }

    // Floods and synchronizations whose replies are never read, then the
    // client leaves: its worker ends.
    for (Via via : {Via::kTcp, Via::kShm}) {
      INFO("over " << ViaName(via));
      RawClient c;
      const uint64_t before = LastSessionId(server);
      RequireOpen(c, server, via);
      const pid_t worker = WorkerOfNewSession(server, before);
      REQUIRE(worker > 0);
      LoadedKernels kernels;
      REQUIRE(LoadHostileKernels(c, server, 1, &kernels) == 0);
      for (int round = 0; round < 32; ++round) {
        SendPrint(c, kernels, kPrinted);
        REQUIRE(c.Send(wire::Request::DeviceSynchronize, [](flatbuffers::FlatBufferBuilder& b) {
                  return wire::CreateDeviceSynchronize(b).Union();
                }).ok());
      }
      c = RawClient();
      CHECK(WaitUntil([&] { return !ProcessExists(worker); }, milliseconds(20000)));
    }

    REQUIRE(server.Alive());
    RequireFreshSessionsWork(server);
  }
}

}  // namespace rcuda::itest
