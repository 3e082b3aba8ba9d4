// TEST EQUIPMENT: counts of the fake CUDA driver's calls, for tests that
// assert what a process asked of its driver (how many calls a request cost,
// whether a wait would have spun a core on a GPU).
//
// With RCUDA_FAKE_DRIVER_CALL_COUNTS=<dir> in its environment, the fake
// creates <dir>/calls.<pid> at cuInit and counts there, live, in a shared
// mapping of 64-bit counters:
//   - slot i: calls to the i-th entry point of RCUDA_DRIVER_FUNCTIONS
//     (server/cuda_driver.h), whatever their result;
//   - then kSpinningWaits: host waits that found GPU work pending and that a
//     GPU driver would spend spinning under the context's default scheduling
//     (cuStreamSynchronize and cuCtxSynchronize, cuEventSynchronize on an
//     event without CU_EVENT_BLOCKING_SYNC), and kBlockingWaits: those it
//     would spend asleep (cuEventSynchronize on a CU_EVENT_BLOCKING_SYNC
//     event, cuStreamSynchronize on a stream whose synchronization policy is
//     blocking). The fake itself sleeps in both.
// The reader (ReadCallCounts) is header-only, for the tests.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "server/cuda_driver.h"

namespace fake {

inline constexpr char kCallCountsEnv[] = "RCUDA_FAKE_DRIVER_CALL_COUNTS";

enum CallCountSlot : int {
#define FAKE_COUNT_SLOT(name, version) kCount_##name,
  RCUDA_DRIVER_FUNCTIONS(FAKE_COUNT_SLOT)
#undef FAKE_COUNT_SLOT
  kSpinningWaits,
  kBlockingWaits,
  kCallCountSlots
};

inline std::string CallCountsPath(const std::string& dir, long pid) { return dir + "/calls." + std::to_string(pid); }

// The slots' names, in order.
inline std::vector<std::string> CallCountNames() {
  std::vector<std::string> names = {
#define FAKE_COUNT_NAME(name, version) #name,
      RCUDA_DRIVER_FUNCTIONS(FAKE_COUNT_NAME)
#undef FAKE_COUNT_NAME
  };
  names.push_back("spinning waits");
  names.push_back("blocking waits");
  return names;
}

// The counts of process `pid` so far, by name (false if it has none).
inline bool ReadCallCounts(const std::string& dir, long pid, std::map<std::string, uint64_t>* counts) {
  std::FILE* f = std::fopen(CallCountsPath(dir, pid).c_str(), "rb");
  if (!f) return false;
  std::vector<uint64_t> values(kCallCountSlots);
  size_t n = std::fread(values.data(), sizeof(uint64_t), values.size(), f);
  std::fclose(f);
  if (n != values.size()) return false;
  std::vector<std::string> names = CallCountNames();
  counts->clear();
  for (size_t i = 0; i < values.size(); ++i) (*counts)[names[i]] = values[i];
  return true;
}

// The fake's side (call_counts.cc): opens the file (cuInit), counts.
void OpenCallCounts();
void CountCall(int slot);

}  // namespace fake
